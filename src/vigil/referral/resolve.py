"""Who hosts a URL: a known platform by domain; otherwise the domain's registrar and abuse contact (RDAP),
the address's network, ASN and abuse contact (RDAP for IPs; ASN through Team Cymru's DNS interface), and
whether a CDN stands in front (by ASN, address range or response header). Cached with time-outs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import dns.exception
import dns.resolver

from vigil.config import Config
from vigil.errors import UsageError
from vigil.net.dns import is_ip, lookup, make_resolver
from vigil.referral.cache import cached
from vigil.referral.rdap import RdapClient, RdapError
from vigil.referral.registry import load_cdns, load_platforms, platform_for, provider_for_asn
from vigil.store import Store

TWO_LEVEL_SUFFIXES = {"co.uk", "org.uk", "ac.uk", "com.au", "net.au", "co.jp", "com.br", "com.tr", "co.in"}


def registered_domain(host: str) -> str:
    labels = host.lower().rstrip(".").split(".")
    if len(labels) >= 3 and ".".join(labels[-2:]) in TWO_LEVEL_SUFFIXES:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


@dataclass(slots=True)
class Provider:
    url: str
    host: str
    domain: str
    platform: dict[str, Any] | None = None
    addresses: list[str] = field(default_factory=list)
    registrar: dict[str, Any] = field(default_factory=dict)
    network: dict[str, Any] = field(default_factory=dict)
    asn: dict[str, Any] = field(default_factory=dict)
    cdn: dict[str, Any] | None = None
    recipient: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return str(self.recipient.get("key") or self.domain)

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "host": self.host,
            "domain": self.domain,
            "platform": self.platform,
            "addresses": self.addresses,
            "registrar": self.registrar,
            "network": self.network,
            "asn": self.asn,
            "cdn": self.cdn,
            "recipient": self.recipient,
            "errors": self.errors,
        }


def origin_asn(ip: str, resolver: dns.resolver.Resolver) -> dict[str, Any]:
    """ASN for an address from Team Cymru's DNS service: ``<reversed>.origin(6).asn.cymru.com TXT``."""
    if ":" in ip:
        nibbles = "".join(f"{int(p or '0', 16):04x}" for p in _expand_v6(ip))
        name = ".".join(reversed(nibbles)) + ".origin6.asn.cymru.com"
    else:
        name = ".".join(reversed(ip.split("."))) + ".origin.asn.cymru.com"
    try:
        answer = resolver.resolve(name, "TXT", raise_on_no_answer=False, search=False)
    except (dns.exception.DNSException, OSError) as exc:
        return {"error": f"ASN lookup failed: {type(exc).__name__}"}
    for record in answer if answer.rrset is not None else []:
        text = b"".join(record.strings).decode("ascii", "replace")
        fields = [f.strip() for f in text.split("|")]
        try:
            return {"asn": int(fields[0].split()[0]), "prefix": fields[1] if len(fields) > 1 else ""}
        except (ValueError, IndexError):
            return {"error": f"unreadable ASN answer {text[:80]!r}"}
    return {"error": "no ASN answer"}


def _expand_v6(ip: str) -> list[str]:
    import ipaddress

    return ipaddress.IPv6Address(ip).exploded.split(":")


class ProviderResolver:
    """Who hosts a URL: the platform registry, DNS, RDAP and ASN answers, cached in the store."""

    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.config = config
        self.platforms = load_platforms(config)
        self.cdns = load_cdns(config)
        self.dns = make_resolver(config)
        self.rdap = RdapClient(config)
        self.ttl = timedelta(hours=float(config.extra.get("provider_cache_hours", 24)))
        self.error_ttl = timedelta(minutes=float(config.extra.get("provider_error_cache_minutes", 30)))

    def close(self) -> None:
        self.rdap.close()

    def __enter__(self) -> ProviderResolver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _rdap(self, key: str, call: Any) -> dict[str, Any]:
        def compute() -> dict[str, Any]:
            try:
                return dict(call())
            except RdapError as exc:
                return {"error": str(exc)}

        return cached(self.store, key, self.ttl, compute, error_ttl=self.error_ttl)

    def resolve(self, url: str, headers: dict[str, str] | None = None) -> Provider:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            raise UsageError(f"not an http(s) URL with a host: {url!r}")
        provider = Provider(url, host, host if is_ip(host) else registered_domain(host))
        platform = platform_for(host, self.platforms)
        if platform is not None:
            provider.platform = platform.to_dict()
            provider.recipient = platform.recipient("platform")
            return provider
        answers = lookup(host, self.config, self.dns)
        provider.addresses = answers.addresses
        if not is_ip(host):
            provider.registrar = self._rdap(
                f"rdap:domain:{provider.domain}", lambda: self.rdap.domain(provider.domain)
            )
        ip = provider.addresses[0] if provider.addresses else None
        if ip:
            provider.network = self._rdap(f"rdap:ip:{ip}", lambda: self.rdap.ip(ip))
            provider.asn = cached(
                self.store, f"asn:{ip}", self.ttl, lambda: origin_asn(ip, self.dns), error_ttl=self.error_ttl
            )
            number = provider.asn.get("asn")
            if isinstance(number, int):
                provider.asn.update(
                    {
                        k: v
                        for k, v in self._rdap(
                            f"rdap:autnum:{number}", lambda: self.rdap.autnum(number)
                        ).items()
                        if k in ("name", "abuse_email", "error")
                    }
                )
        else:
            provider.errors.append(f"{host} does not resolve: {answers.errors}")
        for part in (provider.registrar, provider.network, provider.asn):
            if part.get("error"):
                provider.errors.append(str(part["error"]))
        for cdn in self.cdns:
            why = cdn.match(ip, provider.asn.get("asn"), headers or {})
            if why:
                provider.cdn = {"key": cdn.key, "name": cdn.name, "evidence": why}
                break
        provider.recipient = self._recipient(provider)
        return provider

    def _recipient(self, p: Provider) -> dict[str, Any]:
        """Where the referral goes: the CDN's abuse desk when one is in front, else the host the registry
        knows by its ASN (with its removal-order contacts), else the network's abuse contact, else the
        registrar's."""
        known = provider_for_asn(p.asn.get("asn"), self.platforms)
        if known is not None and not p.cdn:
            return known.recipient("host")
        if p.cdn:
            cdn_platform = next((x for x in self.platforms if x.key == p.cdn["key"]), None)
            email = (cdn_platform.abuse_email if cdn_platform else "") or p.asn.get("abuse_email", "")
            return {"kind": "cdn", "key": p.cdn["key"], "name": p.cdn["name"], "email": email}
        if p.network.get("abuse_email"):
            name = p.network.get("organisation") or p.network.get("network") or p.asn.get("name", "")
            return {
                "kind": "host",
                "key": f"net:{p.network.get('handle') or name}",
                "name": name,
                "email": p.network["abuse_email"],
            }
        if p.asn.get("abuse_email"):
            return {
                "kind": "host",
                "key": f"as{p.asn.get('asn')}",
                "name": p.asn.get("name", ""),
                "email": p.asn["abuse_email"],
            }
        if p.registrar.get("abuse_email"):
            return {
                "kind": "registrar",
                "key": f"registrar:{p.registrar.get('registrar')}",
                "name": p.registrar.get("registrar", ""),
                "email": p.registrar["abuse_email"],
            }
        return {"kind": "unknown", "key": p.domain, "name": p.domain, "email": ""}
