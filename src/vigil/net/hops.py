"""Fetch a URL hop by hop, the way evidence needs it.

Each hop resolves the host through ``dns_lookup`` and connects to the address it got (so what is recorded
is what was fetched), refuses private and loopback addresses unless config allows them, keeps the raw
bytes (no content decoding), caps the size, and follows redirects itself so that every hop is recorded.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from vigil.config import Config
from vigil.core.model import utcnow
from vigil.errors import VigilError
from vigil.net.dns import DnsAnswers, lookup, make_resolver
from vigil.net.guard import networks, refusal

REDIRECTS = {301, 302, 303, 307, 308}


class FetchError(VigilError):
    def __init__(self, reason: str, url: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.reason = reason
        self.url = url


@dataclass(slots=True)
class Hop:
    url: str
    ip: str
    at: datetime
    method: str
    request_headers: list[tuple[str, str]]
    status: int
    reason: str
    http_version: str
    response_headers: list[tuple[str, str]]
    body: bytes
    truncated: bool = False

    def header(self, name: str) -> str:
        name = name.lower()
        return next((v for k, v in self.response_headers if k.lower() == name), "")


@dataclass(slots=True)
class FetchResult:
    hops: list[Hop] = field(default_factory=list)
    dns: list[DnsAnswers] = field(default_factory=list)

    @property
    def final(self) -> Hop:
        return self.hops[-1]


def _check_address(ip: str, url: str, config: Config) -> None:
    """The crawler's SSRF rules (``vigil.net.guard.refusal``): one definition of what is refused."""
    reason = refusal(ip, config.allow_private_addresses, networks(config.allowed_networks))
    if reason:
        why = f"refusing private address {ip}: {reason} (set allow_private_addresses to allow)"
        raise FetchError(why, url)


class Fetcher:
    def __init__(self, config: Config, max_bytes: int | None = None, max_redirects: int = 10) -> None:
        self.config = config
        self.max_bytes = max_bytes or config.max_record_bytes
        self.max_redirects = max_redirects
        self.resolver = make_resolver(config)
        self._dns_cache: dict[str, DnsAnswers] = {}
        ca_bundle = str(config.extra.get("ca_bundle") or "")
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
        self.client = httpx.Client(
            timeout=config.http_timeout, follow_redirects=False, trust_env=False, verify=verify
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def dns_answers(self) -> list[DnsAnswers]:
        """Every DNS answer this fetcher got, in the order it asked."""
        return list(self._dns_cache.values())

    def resolve(self, host: str) -> DnsAnswers:
        if host not in self._dns_cache:
            self._dns_cache[host] = lookup(host, self.config, self.resolver)
        return self._dns_cache[host]

    def fetch(self, url: str) -> FetchResult:
        """GET ``url``, following redirects; every hop and every DNS answer is in the result."""
        result = FetchResult()
        seen_hosts: set[str] = set()
        current = url
        for _ in range(self.max_redirects + 1):
            hop, answers = self.get(current)
            result.hops.append(hop)
            if answers.host not in seen_hosts:
                seen_hosts.add(answers.host)
                result.dns.append(answers)
            location = hop.header("location")
            if hop.status not in REDIRECTS or not location:
                return result
            current = urljoin(current, location)
        raise FetchError(f"more than {self.max_redirects} redirects", url)

    def get(self, url: str) -> tuple[Hop, DnsAnswers]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("only http(s) URLs with a host can be fetched", url)
        host = parts.hostname
        answers = self.resolve(host)
        if not answers.addresses:
            raise FetchError(f"host does not resolve ({answers.errors or 'no address'})", url)
        ip = answers.addresses[0]
        _check_address(ip, url, self.config)
        netloc_ip = f"[{ip}]" if ":" in ip else ip
        if parts.port:
            netloc_ip += f":{parts.port}"
        target = urlunsplit((parts.scheme, netloc_ip, parts.path or "/", parts.query, ""))
        host_header = parts.netloc.rsplit("@", 1)[-1]
        headers = {
            "Host": host_header,
            "User-Agent": self.config.user_agent,
            "Accept-Encoding": "identity",
            "Accept": "*/*",
        }
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        at = utcnow()
        try:
            request = self.client.build_request("GET", target, headers=headers, extensions=extensions)
            response = self.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise FetchError(f"fetch failed: {type(exc).__name__}: {exc}", url) from exc
        chunks: list[bytes] = []
        size = 0
        truncated = False
        try:
            for chunk in response.iter_raw(1 << 16):
                size += len(chunk)
                if size > self.max_bytes:
                    truncated = True
                    chunks.append(chunk[: len(chunk) - (size - self.max_bytes)])
                    break
                chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise FetchError(f"read failed: {type(exc).__name__}: {exc}", url) from exc
        finally:
            response.close()
        sent = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        hop = Hop(
            url=url,
            ip=ip,
            at=at,
            method="GET",
            request_headers=sent,
            status=response.status_code,
            reason=response.reason_phrase or "",
            http_version=response.http_version,
            response_headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw],
            body=b"".join(chunks),
            truncated=truncated,
        )
        return hop, answers
