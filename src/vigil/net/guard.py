"""The SSRF guard: every request is resolved here, every address checked, and the connection pinned to it.

Host names are resolved before connecting and each address must be global (not private, loopback,
link-local, multicast, reserved, shared or unspecified) unless the configuration allows private addresses.
The request then goes to the checked address (the Host header and TLS SNI keep the name), so a second
DNS answer cannot swap in another address. Redirects are followed by the caller one hop at a time, so
every hop passes through here too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import httpx

from vigil.config import Config
from vigil.errors import ConfigError, VigilError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class BlockedAddress(VigilError):
    """A URL resolves to an address the guard refuses."""


class Resolver(Protocol):
    async def resolve(self, host: str, port: int) -> list[str]: ...


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

    def __init__(self, table: Mapping[str, str], fallback: Resolver | None = None) -> None:
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


class GuardedTransport(httpx.AsyncBaseTransport):
    """Resolves, checks and pins every request's address before handing it to a real transport."""

    def __init__(
        self,
        config: Config,
        resolver: Resolver | None = None,
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.allow_private = config.allow_private_addresses
        self.allowed = networks(config.allowed_networks)
        self.resolver = resolver or SystemResolver()
        self.inner = inner or httpx.AsyncHTTPTransport(retries=0)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        if request.url.scheme not in ("http", "https"):
            raise BlockedAddress(f"scheme {request.url.scheme!r} is not fetched")
        try:
            addresses = [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            addresses = await self.resolver.resolve(host, port)
        if not addresses:
            raise httpx.ConnectError(f"no address for {host}")
        for address in addresses:
            reason = refusal(address, self.allow_private, self.allowed)
            if reason:
                raise BlockedAddress(f"{request.url.host}: {reason} (not allowed by allow_private_addresses)")
        pinned = addresses[0]
        url = request.url.copy_with(host=pinned)
        extensions = dict(request.extensions)
        if request.url.scheme == "https":
            extensions["sni_hostname"] = host
        pinned_request = httpx.Request(
            request.method,
            url,
            headers=request.headers,  # keeps the Host header of the name
            stream=request.stream,
            extensions=extensions,
        )
        response = await self.inner.handle_async_request(pinned_request)
        response.extensions = {**response.extensions, "vigil_address": pinned}
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
