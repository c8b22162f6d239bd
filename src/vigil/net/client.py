"""The async face of the HTTP policy: one polite, guarded fetch. Redirects are followed hop by hop (each
hop checked by the SSRF guard and, when the caller gives a gate, by robots.txt; each recorded), with the
policy's time-out, a size limit and a content-type check, and per-host politeness (``HostLimiter``).
Failures come back as a reason, never as an exception. ``fetch_sync`` is the same for synchronous callers
(``vigil scan URL``, watched feeds)."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import IO, Any

import httpx

from vigil.config import Config
from vigil.net.guard import ADDRESS_EXTENSION, AddressResolver, BlockedAddress
from vigil.net.limits import HostLimiter
from vigil.net.policy import DEFAULT_MAX_BYTES, DEFAULT_MAX_REDIRECTS, HttpPolicy, redirect_target
from vigil.net.robots import RobotsCache

#: Asked before each hop of a fetch: may this URL be requested (robots.txt)?
Gate = Callable[[str], Awaitable[bool]]
#: Asked before each redirect hop: is this URL new to the caller (True), or fetched or queued already?
Seen = Callable[[str], bool]
HTML_TYPES = ("text/html", "application/xhtml+xml")


def is_html(content_type: str) -> bool:
    return content_type in HTML_TYPES


def any_type(content_type: str) -> bool:
    return True


@dataclass(slots=True)
class Fetched:
    url: str
    final_url: str = ""
    status: int = 0
    content_type: str = ""
    charset: str = "utf-8"
    body: bytes = b""
    redirects: list[dict[str, Any]] = field(default_factory=list)
    validators: dict[str, str] = field(default_factory=dict)
    address: str | None = None
    tls: dict[str, Any] | None = None
    error: str | None = None
    blocked: bool = False
    #: A hop was not fetched because robots.txt excludes it (the gate said no).
    excluded: bool = False
    #: A redirect led to a URL the caller has already (its ``first`` said no): ``final_url``, not fetched.
    known: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status < 300


@dataclass(slots=True)
class FetchSettings:
    """A ``PoliteFetcher``'s limits (they make its ``HttpPolicy``) and politeness (its ``HostLimiter``)."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    timeout: float = 20.0
    concurrency: int = 2
    delay: float = 1.0


class PoliteFetcher:
    """The async guarded HTTP client (``HttpPolicy.async_client``) with a per-host limiter and a robots.txt
    cache (``robots``, for the callers' ``gate``). Use as ``async with``."""

    def __init__(
        self,
        config: Config,
        settings: FetchSettings | None = None,
        resolver: AddressResolver | None = None,
    ) -> None:
        self.config = config
        self.settings = settings or FetchSettings(timeout=config.http_timeout)
        self.policy = HttpPolicy.from_config(
            config,
            timeout=self.settings.timeout,
            max_redirects=self.settings.max_redirects,
            max_bytes=self.settings.max_bytes,
        )
        self.limiter = HostLimiter(self.settings.concurrency, self.settings.delay)
        self.client = self.policy.async_client(resolver)
        self.robots = RobotsCache(self, self.policy.user_agent)

    async def __aenter__(self) -> PoliteFetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def get(
        self,
        url: str,
        accept: Callable[[str], bool] = any_type,
        max_bytes: int | None = None,
        headers: dict[str, str] | None = None,
        gate: Gate | None = None,
        into: IO[bytes] | None = None,
        first: Seen | None = None,
    ) -> Fetched:
        """GET ``url``; ``headers`` (e.g. If-None-Match) go with the first hop only. ``gate`` is asked
        before every hop, the first included (robots.txt); a hop it refuses is not requested. ``first`` is
        asked before every redirect hop, whether the caller has it already: if so the fetch ends there,
        unrequested (``known``; the crawler's seen set, so that a page reached by a link and by a redirect
        is fetched once). With ``into`` the body is streamed there instead of kept in ``Fetched.body``."""
        limit = max_bytes or self.policy.max_bytes
        result = Fetched(url)
        current = url
        for _hop in range(self.policy.max_redirects + 1):
            try:
                if (
                    result.redirects
                    and first is not None
                    and not _in_chain(current, result)
                    and not first(current)
                ):
                    result.final_url, result.known = current, True
                    return result
                if gate is not None and not await gate(current):
                    result.final_url = current
                    result.error, result.excluded = f"excluded by robots.txt: {current}", True
                    return result
                host = httpx.URL(current).host
                async with (
                    self.limiter.slot(host),
                    self.client.stream(
                        "GET", current, headers=headers if not result.redirects else None
                    ) as response,
                ):
                    result.final_url = current
                    result.status = response.status_code
                    result.address = response.extensions.get(ADDRESS_EXTENSION)
                    location = response.headers.get("location", "")
                    target = redirect_target(current, response.status_code, location)
                    if target is not None:
                        result.redirects.append(
                            {"url": current, "status": response.status_code, "location": target}
                        )
                        current = target
                        continue
                    result.tls = tls_details(response)
                    result.validators = {
                        k: response.headers[k] for k in ("etag", "last-modified") if k in response.headers
                    }
                    if response.status_code == 304:
                        return result
                    result.content_type, result.charset = content_type(response.headers.get("content-type"))
                    if response.status_code >= 400:
                        result.error = f"HTTP {response.status_code}"
                        return result
                    if not accept(result.content_type):
                        result.error = f"content type {result.content_type or 'missing'} not wanted"
                        return result
                    declared = response.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > limit:
                        result.error = f"larger than {limit} bytes (Content-Length {declared})"
                        return result
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_bytes(1 << 16):
                        size += len(chunk)
                        if size > limit:
                            result.error = f"larger than {limit} bytes"
                            return result
                        if into is None:
                            chunks.append(chunk)
                        else:
                            into.write(chunk)
                    result.body = b"".join(chunks)
                    return result
            except BlockedAddress as exc:
                result.error, result.blocked = f"refused: {exc}", True
                return result
            except httpx.TimeoutException:
                result.error = f"time-out after {self.policy.timeout}s"
                return result
            except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
                result.error = f"fetch failed: {exc.__class__.__name__}: {exc}"
                return result
        result.error = f"more than {self.policy.max_redirects} redirects"
        return result


def _in_chain(url: str, result: Fetched) -> bool:
    """Is ``url`` a hop this fetch made already (a redirect loop: left to the redirect limit)?"""
    return url == result.url or any(hop["url"] == url for hop in result.redirects)


def fetch_sync(
    config: Config,
    url: str,
    settings: FetchSettings | None = None,
    resolver: AddressResolver | None = None,
    **kwargs: Any,
) -> Fetched:
    """One guarded GET (``PoliteFetcher.get``'s keywords) from synchronous code, on an event loop of its
    own."""

    async def fetch() -> Fetched:
        async with PoliteFetcher(config, settings, resolver) as fetcher:
            return await fetcher.get(url, **kwargs)

    return asyncio.run(fetch())


def content_type(header: str | None) -> tuple[str, str]:
    """The media type and a known charset (UTF-8 when none or unknown) of a Content-Type header."""
    mime, _, params = (header or "").partition(";")
    charset = "utf-8"
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            with contextlib.suppress(LookupError):
                charset = codecs.lookup(value.strip().strip('"')).name
    return mime.strip().lower(), charset


def tls_details(response: httpx.Response) -> dict[str, Any] | None:
    """The server certificate's SHA-256, subject, issuer and names, when the response came over TLS."""
    stream = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    info = ssl_object.getpeercert() or {}
    return {
        "sha256": hashlib.sha256(der).hexdigest() if der else None,
        "subject": _name(info.get("subject", ())),
        "issuer": _name(info.get("issuer", ())),
        "san": sorted(v for k, v in info.get("subjectAltName", ()) if k == "DNS"),
        "not_after": info.get("notAfter"),
    }


def _name(rdns: Any) -> str:
    return ", ".join(f"{k}={v}" for rdn in rdns for k, v in rdn)
