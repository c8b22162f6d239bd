"""The sync face of the HTTP policy for evidence: fetch a URL hop by hop and record every hop.

``HopRecorder`` asks DNS through ``vigil.net.dns`` (the answers are recorded as evidence) and hands those
answers to the policy's guarded sync client (``HttpPolicy.sync_client``), so the connection goes to the
address that was recorded and checked by the one SSRF rule (``vigil.net.guard``), with the Host header and
TLS SNI keeping the name, TLS verified against ``ca_bundle`` when set. It keeps the raw bytes (no content
decoding), caps the size (the hop is kept, marked truncated), and follows redirects itself so that every
hop is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import httpx

from vigil.config import Config
from vigil.core.model import utcnow
from vigil.errors import VigilError
from vigil.net.dns import DnsAnswers, lookup, make_resolver
from vigil.net.guard import ADDRESS_EXTENSION, BlockedAddress
from vigil.net.policy import DEFAULT_MAX_REDIRECTS, HttpPolicy, redirect_target


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


class HopRecorder:
    """Fetches through the guarded sync client and records each hop (``Hop``) and each DNS answer."""

    def __init__(
        self, config: Config, max_bytes: int | None = None, max_redirects: int = DEFAULT_MAX_REDIRECTS
    ) -> None:
        self.config = config
        self.policy = HttpPolicy.from_config(
            config, max_redirects=max_redirects, max_bytes=max_bytes or config.max_record_bytes
        )
        self.max_bytes = self.policy.max_bytes
        self.max_redirects = self.policy.max_redirects
        self.resolver = make_resolver(config)
        self._dns_cache: dict[str, DnsAnswers] = {}
        #: The answers of each host as httpx spells it (lower case, IDNA), for the guard's lookup.
        self._wire_hosts: dict[str, DnsAnswers] = {}
        self.client = self.policy.sync_client(self._addresses)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> HopRecorder:
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

    def _addresses(self, host: str, port: int) -> list[str]:
        """The guard's lookup: the recorded answers, so that what is recorded is what is connected to."""
        found = self._wire_hosts.get(host)
        return (found or self.resolve(host)).addresses

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
            target = redirect_target(current, hop.status, hop.header("location"))
            if target is None:
                return result
            current = target
        raise FetchError(f"more than {self.max_redirects} redirects", url)

    def get(self, url: str) -> tuple[Hop, DnsAnswers]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("only http(s) URLs with a host can be fetched", url)
        host = parts.hostname
        answers = self.resolve(host)
        if not answers.addresses:
            raise FetchError(f"host does not resolve ({answers.errors or 'no address'})", url)
        # The request names the host; the guard connects to the recorded, checked address.
        netloc = parts.netloc.rsplit("@", 1)[-1]
        target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        if not netloc.isascii():  # an internationalised name goes in the Host header as IDNA
            netloc = _idna_netloc(target, url)
        headers = {
            "Host": netloc,
            "User-Agent": self.policy.user_agent,
            "Accept-Encoding": "identity",
            "Accept": "*/*",
        }
        at = utcnow()
        try:
            request = self.client.build_request("GET", target, headers=headers)
            self._wire_hosts[request.url.host] = answers
            response = self.client.send(request, stream=True)
        except BlockedAddress as exc:
            if not exc.address:
                raise FetchError(str(exc), url) from exc
            why = f"{exc.reason} (set allow_private_addresses to allow)"
            raise FetchError(f"refusing private address {exc.address}: {why}", url) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise FetchError(f"fetch failed: {type(exc).__name__}: {exc}", url) from exc
        ip = str(response.extensions.get(ADDRESS_EXTENSION, answers.addresses[0]))
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


def _idna_netloc(target: str, url: str) -> str:
    try:
        return httpx.URL(target).netloc.decode("ascii")
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise FetchError(f"not a valid host name: {exc}", url) from exc
