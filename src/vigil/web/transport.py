"""How the request reached us: the scheme behind a trusted reverse proxy, and whether cookies are Secure.

Behind a TLS-terminating proxy the server sees plain http, so a cookie marked Secure "when the request
is https" was never Secure. ``TrustedProxies`` takes the scheme from ``X-Forwarded-Proto`` when, and only
when, the peer is one of ``trusted_proxies`` (config.toml or ``VIGIL_TRUSTED_PROXIES``); anyone else's
header is ignored, so a client cannot claim https for itself. ``cookie_secure`` ("auto", "always",
"never") decides the Secure flag of every cookie the app sets (``secure_cookies``). ``vigil serve`` turns
uvicorn's own proxy-header handling off, so this setting is the only one that decides.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from vigil.config import Config
from vigil.errors import ConfigError

MODES = ("auto", "always", "never")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def proxy_networks(config: Config) -> tuple[Network, ...]:
    """``trusted_proxies`` as networks; ``ConfigError`` naming a bad one (the server does not start)."""
    if config.cookie_secure not in MODES:
        raise ConfigError(f"cookie_secure: one of {', '.join(MODES)}, not {config.cookie_secure!r}")
    networks = []
    for text in config.trusted_proxies:
        try:
            networks.append(ipaddress.ip_network(str(text).strip(), strict=False))
        except ValueError as exc:
            raise ConfigError(f"trusted_proxies: {exc}") from None
    return tuple(networks)


class TrustedProxies:
    """Set the request's scheme from X-Forwarded-Proto when the peer is a trusted proxy."""

    def __init__(self, app: ASGIApp, networks: Sequence[Network]) -> None:
        self.app = app
        self.networks = tuple(networks)

    def trusted(self, scope: Scope) -> bool:
        client = scope.get("client")
        if not client or not self.networks:
            return False
        try:
            address = ipaddress.ip_address(client[0])
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.trusted(scope):
            for name, value in scope.get("headers", []):
                if name == b"x-forwarded-proto":
                    # The first value is what the client used (each proxy appends its own).
                    proto = value.decode("latin-1").split(",")[0].strip().lower()
                    if proto in ("http", "https"):
                        scope = {**scope, "scheme": proto}
                    break
        await self.app(scope, receive, send)


def secure_cookies(request: Request) -> bool:
    """Whether a cookie set in answer to ``request`` is marked Secure (``cookie_secure``)."""
    mode = request.app.state.vigil.config.cookie_secure
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")
