"""The user-editable registry of hosting providers (platforms, and hosts known by ASN) and CDNs (YAML):
shipped defaults, then ``$VIGIL_HOME/platforms.yaml`` / ``cdns.yaml`` whose entries replace or add to them
by key. A provider's removal-order contacts (Regulation 2021/784: the Art. 15 contact point, the Art. 17
legal representative, the Member State of its main establishment or representative) come from here; the
shipped entries leave them empty, to be filled by the user from what each provider publishes, and
``to_fill`` lists what is still missing."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from vigil.config import Config
from vigil.errors import ConfigError


@dataclass(slots=True)
class Platform:
    key: str
    name: str
    domains: list[str]
    abuse_email: str = ""
    legal_email: str = ""
    webhook_url: str = ""
    terms_url: str = ""
    notice_url: str = ""
    legal_representative: dict[str, str] = field(default_factory=dict)
    contact_point: dict[str, str] = field(default_factory=dict)
    member_state: str = ""
    asns: list[int] = field(default_factory=list)

    @property
    def to_fill(self) -> list[str]:
        """What a removal order needs from this entry and it does not have yet (to be filled by the user).
        The legal representative is needed only for providers established outside the EU, so it is not
        listed."""
        missing = [] if self.contact_point.get("email") else ["contact_point"]
        return missing + ([] if self.member_state else ["member_state"])

    def recipient(self, kind: str) -> dict[str, Any]:
        """Where a document for this provider goes (the addressee section of a removal order)."""
        return {
            "kind": kind,
            "key": self.key,
            "name": self.name,
            "email": self.legal_email or self.abuse_email,
            "webhook_url": self.webhook_url,
            "legal_representative": self.legal_representative,
            "contact_point": self.contact_point,
            "member_state": self.member_state,
            "terms_url": self.terms_url,
            "to_fill": self.to_fill,
        }

    def matches(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.domains)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "domains": self.domains,
            "abuse_email": self.abuse_email,
            "legal_email": self.legal_email,
            "webhook_url": self.webhook_url,
            "terms_url": self.terms_url,
            "notice_url": self.notice_url,
            "legal_representative": self.legal_representative,
            "contact_point": self.contact_point,
            "member_state": self.member_state,
            "asns": self.asns,
            "to_fill": self.to_fill,
        }


@dataclass(slots=True)
class Cdn:
    key: str
    name: str
    asns: list[int]
    ranges: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
    headers: dict[str, str]

    def match(self, ip: str | None, asn: int | None, headers: dict[str, str]) -> str | None:
        """Why this CDN is in front, or None."""
        if asn is not None and asn in self.asns:
            return f"ASN {asn}"
        if ip:
            addr = ipaddress.ip_address(ip)
            for net in self.ranges:
                if addr.version == net.version and addr in net:
                    return f"address {ip} in {net}"
        low = {k.lower(): v.lower() for k, v in headers.items()}
        for name, needle in self.headers.items():
            value = low.get(name.lower())
            if value is not None and needle.lower() in value:
                return f"header {name}: {value[:60]}"
        return None


def _load_yaml(path: Path | None, text: str | None, key: str) -> list[dict[str, Any]]:
    where = str(path) if path else f"shipped {key}"
    try:
        data = yaml.safe_load(text if text is not None else path.read_text("utf-8"))  # type: ignore[union-attr]
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    entries = (data or {}).get(key, []) if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and e.get("key") for e in entries):
        raise ConfigError(f"{where}: expected a mapping with a list '{key}' of entries that each have a key")
    return entries


def _merged(config: Config, filename: str, key: str) -> list[dict[str, Any]]:
    shipped = resources.files("vigil.data").joinpath("referral", filename).read_text("utf-8")
    merged = {e["key"]: e for e in _load_yaml(None, shipped, key)}
    user = config.home / filename
    if user.exists():
        merged.update({e["key"]: e for e in _load_yaml(user, None, key)})
    return list(merged.values())


def _contacts(data: Any) -> dict[str, str]:
    """A contact table; empty values (to be filled by the user) are left out."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TypeError("a contact must be a table of name, address, email, phone")
    return {str(k): str(v).strip() for k, v in data.items() if v is not None and str(v).strip()}


def load_platforms(config: Config) -> list[Platform]:
    out = []
    for e in _merged(config, "platforms.yaml", "platforms"):
        try:
            out.append(
                Platform(
                    key=str(e["key"]),
                    name=str(e.get("name") or e["key"]),
                    domains=[str(d).lower() for d in e.get("domains") or []],
                    abuse_email=str(e.get("abuse_email") or ""),
                    legal_email=str(e.get("legal_email") or ""),
                    webhook_url=str(e.get("webhook_url") or ""),
                    terms_url=str(e.get("terms_url") or ""),
                    notice_url=str(e.get("notice_url") or ""),
                    legal_representative=_contacts(e.get("legal_representative")),
                    contact_point=_contacts(e.get("contact_point")),
                    member_state=str(e.get("member_state") or "").strip().upper(),
                    asns=[int(a) for a in e.get("asns") or []],
                )
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"platforms.yaml: entry {e.get('key')!r}: {exc}") from exc
    return out


def load_cdns(config: Config) -> list[Cdn]:
    out = []
    for e in _merged(config, "cdns.yaml", "cdns"):
        try:
            out.append(
                Cdn(
                    key=str(e["key"]),
                    name=str(e.get("name") or e["key"]),
                    asns=[int(a) for a in e.get("asns") or []],
                    ranges=[ipaddress.ip_network(r, strict=False) for r in e.get("ranges") or []],
                    headers={str(k): str(v or "") for k, v in (e.get("headers") or {}).items()},
                )
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"cdns.yaml: entry {e.get('key')!r}: {exc}") from exc
    return out


def provider_for_asn(asn: Any, platforms: list[Platform]) -> Platform | None:
    """The registry entry of a host known by its network (``asns``), if any."""
    return next((p for p in platforms if isinstance(asn, int) and asn in p.asns), None)


def platform_for(host: str, platforms: list[Platform]) -> Platform | None:
    best: Platform | None = None
    best_len = -1
    for p in platforms:
        for d in p.domains:
            if (host == d or host.endswith("." + d)) and len(d) > best_len:
                best, best_len = p, len(d)
    return best
