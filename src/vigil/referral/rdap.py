"""An RDAP client (RFC 9082/9083) for domains, IP addresses and autonomous systems.

Base URLs come from a small shipped bootstrap file, overridden by ``[rdap]`` in config (no IANA bootstrap is
assumed reachable). Requests go through the policy's guarded sync client (``vigil.net.policy``): the SSRF
rule and DNS pinning apply to every hop, redirects included (an RDAP server may refer elsewhere, and the
names and addresses asked about come from outside), with ``ca_bundle``, the user agent and at most 10
redirects. An RDAP server on a private network must be listed in ``allowed_networks``. Responses are
size-capped and parsed defensively: a malformed answer is an error with the URL, never a crash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import httpx

from vigil.config import Config
from vigil.errors import VigilError
from vigil.net.guard import BlockedAddress
from vigil.net.policy import HttpPolicy

MAX_RDAP_BYTES = 2 * 1024**2


class RdapError(VigilError):
    def __init__(self, reason: str, url: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.reason = reason
        self.url = url


@dataclass(slots=True)
class Bootstrap:
    dns: dict[str, str]
    ip: str
    autnum: str

    def domain_base(self, domain: str) -> str | None:
        labels = domain.lower().rstrip(".").split(".")
        for n in range(len(labels)):
            suffix = ".".join(labels[n:])
            if suffix in self.dns:
                return self.dns[suffix]
        return self.dns.get("*")


def load_bootstrap(config: Config) -> Bootstrap:
    shipped = json.loads(
        resources.files("vigil.data").joinpath("referral", "rdap_bootstrap.json").read_text()
    )
    override = config.extra.get("rdap") or {}
    dns = {**shipped["dns"], **(override.get("dns") or {})}
    return Bootstrap(
        dns, str(override.get("ip") or shipped["ip"]), str(override.get("autnum") or shipped["autnum"])
    )


def _join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path


def _vcard(entity: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    card = entity.get("vcardArray")
    if not (isinstance(card, list) and len(card) == 2 and isinstance(card[1], list)):
        return out
    for prop in card[1]:
        if not (isinstance(prop, list) and len(prop) >= 4):
            continue
        name, value = str(prop[0]).lower(), prop[3]
        if name in ("fn", "email", "tel") and isinstance(value, str) and name not in out:
            out[name] = value.removeprefix("mailto:").removeprefix("tel:")
        elif name == "adr" and "adr" not in out:
            label = prop[1].get("label") if isinstance(prop[1], dict) else None
            out["adr"] = (
                str(label)
                if label
                else ", ".join(str(v) for v in value if v)
                if isinstance(value, list)
                else ""
            )
    return out


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _entities(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """All entities, nested ones included (abuse contacts often sit inside the registrar entity)."""
    found: list[dict[str, Any]] = []
    stack = [e for e in _list(obj.get("entities")) if isinstance(e, dict)]
    while stack and len(found) < 200:
        entity = stack.pop(0)
        found.append(entity)
        stack.extend(e for e in _list(entity.get("entities")) if isinstance(e, dict))
    return found


def _role(obj: dict[str, Any], role: str) -> dict[str, str]:
    for entity in _entities(obj):
        if role in _list(entity.get("roles")):
            return {**_vcard(entity), "handle": str(entity.get("handle") or "")}
    return {}


def parse_domain(data: dict[str, Any]) -> dict[str, Any]:
    registrar = _role(data, "registrar")
    abuse = _role(data, "abuse")
    return {
        "domain": str(data.get("ldhName") or "").lower(),
        "registrar": registrar.get("fn", ""),
        "registrar_handle": registrar.get("handle", ""),
        "abuse_email": abuse.get("email", ""),
        "abuse_phone": abuse.get("tel", ""),
        "nameservers": [
            str(ns.get("ldhName", "")).lower()
            for ns in _list(data.get("nameservers"))
            if isinstance(ns, dict)
        ],
    }


def parse_ip(data: dict[str, Any]) -> dict[str, Any]:
    abuse = _role(data, "abuse")
    registrant = _role(data, "registrant")
    return {
        "network": str(data.get("name") or ""),
        "handle": str(data.get("handle") or ""),
        "range": f"{data.get('startAddress', '')} - {data.get('endAddress', '')}",
        "country": str(data.get("country") or ""),
        "organisation": registrant.get("fn", ""),
        "abuse_email": abuse.get("email", ""),
    }


def parse_autnum(data: dict[str, Any]) -> dict[str, Any]:
    abuse = _role(data, "abuse")
    return {
        "asn": data.get("startAutnum"),
        "name": str(data.get("name") or ""),
        "abuse_email": abuse.get("email", ""),
    }


class RdapClient:
    def __init__(self, config: Config) -> None:
        self.bootstrap = load_bootstrap(config)
        policy = HttpPolicy.from_config(
            config, timeout=float(config.extra.get("rdap_timeout", 10.0)), max_bytes=MAX_RDAP_BYTES
        )
        self.max_bytes = policy.max_bytes
        self.client = policy.sync_client(follow_redirects=True)
        self.client.headers["Accept"] = "application/rdap+json"

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> RdapClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str) -> dict[str, Any]:
        try:
            with self.client.stream("GET", url) as response:
                if response.status_code == 404:
                    raise RdapError("not found", url)
                if response.status_code != 200:
                    raise RdapError(f"HTTP {response.status_code}", url)
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise RdapError(f"answer larger than {self.max_bytes} bytes", url)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise RdapError(f"{type(exc).__name__}: {exc}", url) from exc
        except BlockedAddress as exc:
            raise RdapError(f"refused: {exc}", url) from exc
        try:
            data = json.loads(bytes(body))
        except (ValueError, UnicodeDecodeError) as exc:
            raise RdapError(f"not JSON: {exc}", url) from exc
        if not isinstance(data, dict):
            raise RdapError("not a JSON object", url)
        return data

    def domain(self, domain: str) -> dict[str, Any]:
        base = self.bootstrap.domain_base(domain)
        if not base:
            raise RdapError("no RDAP server known for this TLD (add it under [rdap.dns] in config)", domain)
        return parse_domain(self.get(_join(base, f"domain/{domain}")))

    def ip(self, address: str) -> dict[str, Any]:
        return parse_ip(self.get(_join(self.bootstrap.ip, f"ip/{address}")))

    def autnum(self, asn: int) -> dict[str, Any]:
        return parse_autnum(self.get(_join(self.bootstrap.autnum, f"autnum/{asn}")))
