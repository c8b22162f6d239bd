"""DNS answers for a host name, through dnspython, recorded as evidence and used to pin connections.

The name servers come from config (``dns_servers = ["127.0.0.1:5353"]``) or the system's resolv.conf.
When no DNS server answers, the system resolver (``getaddrinfo``, which also reads /etc/hosts) is asked and
the record says so.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any

import dns.exception
import dns.resolver
import dns.reversename

from vigil.config import Config
from vigil.core.model import utcnow

RECORD_TYPES = ("A", "AAAA", "CNAME")


@dataclass(slots=True)
class DnsAnswers:
    host: str
    server: str
    at: str
    answers: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def addresses(self) -> list[str]:
        return [*self.answers.get("A", []), *self.answers.get("AAAA", [])]

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "server": self.server,
            "at": self.at,
            "answers": self.answers,
            "errors": self.errors,
        }


def make_resolver(config: Config) -> dns.resolver.Resolver:
    servers = config.extra.get("dns_servers") or []
    timeout = float(config.extra.get("dns_timeout", 3.0))
    if not servers:
        resolver = dns.resolver.Resolver()
    else:
        resolver = dns.resolver.Resolver(configure=False)
        addresses, ports = [], {}
        for entry in servers:
            host, _, port = str(entry).rpartition(":") if str(entry).count(":") == 1 else (str(entry), "", "")
            addresses.append(host)
            if port:
                ports[host] = int(port)
        resolver.nameservers = addresses
        resolver.nameserver_ports = ports
    resolver.timeout = timeout
    resolver.lifetime = timeout
    return resolver


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def lookup(host: str, config: Config, resolver: dns.resolver.Resolver | None = None) -> DnsAnswers:
    """Ask for A, AAAA and CNAME; an IP literal answers itself."""
    now = utcnow().isoformat()
    if is_ip(host):
        ip = host.strip("[]")
        kind = "AAAA" if ":" in ip else "A"
        return DnsAnswers(host, "literal", now, {kind: [ip]})
    resolver = resolver or make_resolver(config)
    server = ",".join(
        f"{ns}:{resolver.nameserver_ports.get(str(ns), resolver.port)}" for ns in resolver.nameservers
    )
    result = DnsAnswers(host, server, now)
    for rtype in RECORD_TYPES:
        try:
            answer = resolver.resolve(host, rtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            result.errors[rtype] = "NXDOMAIN"
            break
        except (dns.exception.DNSException, OSError) as exc:
            result.errors[rtype] = type(exc).__name__
            continue
        values = [r.to_text().rstrip(".") for r in answer] if answer.rrset is not None else []
        if values:
            result.answers[rtype] = values
    if not result.addresses and not config.extra.get("dns_servers"):
        _system_fallback(result)
    return result


def _system_fallback(result: DnsAnswers) -> None:
    try:
        infos = socket.getaddrinfo(result.host, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        result.errors["system"] = str(exc)
        return
    result.server = "system"
    for family, *_rest, sockaddr in infos:
        kind = "AAAA" if family == socket.AF_INET6 else "A"
        values = result.answers.setdefault(kind, [])
        if sockaddr[0] not in values:
            values.append(str(sockaddr[0]))


def reverse_name(ip: str) -> str:
    return dns.reversename.from_address(ip).to_text()
