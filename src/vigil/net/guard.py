"""The SSRF guard: every request is resolved here, every address checked, and the connection pinned to it.

Host names are resolved before connecting and each address must be global (not private, loopback,
link-local, multicast, reserved, shared or unspecified) unless the configuration allows private addresses
(``allow_private_addresses``) or lists the network (``allowed_networks``). The request then goes to the
checked address (the Host header and TLS SNI keep the name), so a second DNS answer cannot swap in another
address. Redirects are followed by the caller (or by httpx) one hop at a time, so every hop passes through
here too.

``Guard`` is the rule; ``GuardedTransport`` (async) and ``SyncGuardedTransport`` (sync) wrap a real httpx
transport with it. The async face asks an ``AddressResolver``; the sync face an ``AddressLookup`` (a
function), so that the evidence fetch can hand in the DNS answers it records.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

import httpx

from vigil.config import Config
from vigil.errors import ConfigError, VigilError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: The response extension that names the address a request was sent to.
ADDRESS_EXTENSION = "vigil_address"


class BlockedAddress(VigilError):
    """A URL resolves to an address the guard refuses (or has a scheme that is never fetched)."""

    def __init__(self, message: str, address: str = "", reason: str = "") -> None:
        super().__init__(message)
        #: The refused address and why ("127.0.0.1 is a loopback address"); empty for a refused scheme.
        self.address = address
        self.reason = reason


class AddressResolver(Protocol):
    """Host name to addresses for the async face (``GuardedTransport``)."""

    async def resolve(self, host: str, port: int) -> list[str]: ...


#: Host name and port to addresses for the sync face (``SyncGuardedTransport``).
AddressLookup = Callable[[str, int], Sequence[str]]


def system_lookup(host: str, port: int) -> list[str]:
    """The operating system's resolver (getaddrinfo), blocking."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class SystemResolver:
    """The operating system's resolver (getaddrinfo), run off the event loop."""

    async def resolve(self, host: str, port: int) -> list[str]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from exc
        return list(dict.fromkeys(str(info[4][0]) for info in infos))


class StaticResolver:
    """Fixed answers for some names (an operator's hosts file, or tests); the rest go to ``fallback``."""

    def __init__(self, table: Mapping[str, str], fallback: AddressResolver | None = None) -> None:
        self.table = {k.lower(): v for k, v in table.items()}
        self.fallback = fallback or SystemResolver()

    async def resolve(self, host: str, port: int) -> list[str]:
        found = self.table.get(host.lower())
        return [found] if found else await self.fallback.resolve(host, port)


def networks(cidrs: Iterable[str]) -> list[IPNetwork]:
    try:
        return [ipaddress.ip_network(c, strict=False) for c in cidrs]
    except ValueError as exc:
        raise ConfigError(f"allowed_networks: {exc}") from exc


def refusal(address: str, allow_private: bool, allowed: Sequence[IPNetwork] = ()) -> str | None:
    """Why an address is refused, or None when it may be contacted."""
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"not an IP address: {address!r}"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if (ip.is_global and not ip.is_multicast) or any(
        ip in net for net in allowed if net.version == ip.version
    ):
        return None
    if allow_private and not (ip.is_multicast or ip.is_unspecified):
        return None
    kind = next(
        (
            name
            for name in ("loopback", "link_local", "private", "multicast", "reserved", "unspecified")
            if getattr(ip, f"is_{name}")
        ),
        "non-global",
    )
    return f"{ip} is a {kind.replace('_', '-')} address"


def literal_address(host: str) -> str | None:
    """The address when ``host`` is an IP literal (with or without brackets), else None."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


class Guard:
    """The SSRF rule of one configuration, and the pinning of a request to a checked address."""

    def __init__(self, allow_private: bool = False, allowed: Sequence[IPNetwork] = ()) -> None:
        self.allow_private = allow_private
        self.allowed = list(allowed)

    @classmethod
    def from_config(cls, config: Config) -> Guard:
        return cls(config.allow_private_addresses, networks(config.allowed_networks))

    def refusal(self, address: str) -> str | None:
        """Why ``address`` is refused under this configuration, or None."""
        return refusal(address, self.allow_private, self.allowed)

    @staticmethod
    def target(url: httpx.URL) -> tuple[str, int]:
        """The host and port a request goes to; a scheme other than http(s) is refused."""
        if url.scheme not in ("http", "https"):
            raise BlockedAddress(f"scheme {url.scheme!r} is not fetched")
        return url.host, url.port or (443 if url.scheme == "https" else 80)

    def pin(self, request: httpx.Request, addresses: Sequence[str]) -> tuple[httpx.Request, str]:
        """``request`` sent to the first of ``addresses`` once every one passes the rule; the Host header
        and (for https) the SNI name stay the URL's host, so the certificate is checked against the name."""
        host = request.url.host
        if not addresses:
            raise httpx.ConnectError(f"no address for {host}")
        for address in addresses:
            reason = self.refusal(address)
            if reason:
                raise BlockedAddress(
                    f"{host}: {reason} (not allowed by allow_private_addresses)", address, reason
                )
        pinned = addresses[0]
        extensions = dict(request.extensions)
        if request.url.scheme == "https":
            extensions["sni_hostname"] = host
        pinned_request = httpx.Request(
            request.method,
            request.url.copy_with(host=pinned),
            headers=request.headers,  # keeps the Host header of the name
            stream=request.stream,
            extensions=extensions,
        )
        return pinned_request, pinned


class GuardedTransport(httpx.AsyncBaseTransport):
    """Resolves, checks and pins every request's address before handing it to a real transport (async)."""

    def __init__(
        self,
        config: Config | Guard,
        resolver: AddressResolver | None = None,
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.guard = config if isinstance(config, Guard) else Guard.from_config(config)
        self.resolver = resolver or SystemResolver()
        self.inner = inner or httpx.AsyncHTTPTransport(retries=0)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host, port = self.guard.target(request.url)
        literal = literal_address(host)
        addresses = [literal] if literal else await self.resolver.resolve(host, port)
        pinned_request, pinned = self.guard.pin(request, addresses)
        response = await self.inner.handle_async_request(pinned_request)
        response.extensions = {**response.extensions, ADDRESS_EXTENSION: pinned}
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class SyncGuardedTransport(httpx.BaseTransport):
    """The same guard for synchronous clients (evidence, re-checks, RDAP)."""

    def __init__(
        self,
        config: Config | Guard,
        lookup: AddressLookup | None = None,
        inner: httpx.BaseTransport | None = None,
    ) -> None:
        self.guard = config if isinstance(config, Guard) else Guard.from_config(config)
        self.lookup = lookup or system_lookup
        self.inner = inner or httpx.HTTPTransport(retries=0)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host, port = self.guard.target(request.url)
        literal = literal_address(host)
        addresses = [literal] if literal else list(self.lookup(host, port))
        pinned_request, pinned = self.guard.pin(request, addresses)
        response = self.inner.handle_request(pinned_request)
        response.extensions = {**response.extensions, ADDRESS_EXTENSION: pinned}
        return response

    def close(self) -> None:
        self.inner.close()
