"""Rebuilding URLs from their parts: the one place that puts a host and a port back together.

A parsed URL gives its host without the brackets an IPv6 literal needs in a URL (``httpx.URL.host`` and
``urllib.parse.urlsplit(...).hostname`` both say ``::1``); written back as it is, ``http://::1:8080/`` is no
URL at all. Everything that rebuilds a URL (the crawler's canonical form, robots.txt origins) goes through
``authority`` or ``origin``.
"""

from __future__ import annotations

import httpx

DEFAULT_PORTS = {"http": 80, "https": 443}


def authority(host: str, port: int | None = None) -> str:
    """``host[:port]`` as a URL writes it: an IPv6 literal in brackets. No user information, ever."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return shown if port is None else f"{shown}:{port}"


def origin(url: str | httpx.URL) -> str:
    """``scheme://host[:port]`` of a URL, the scheme's default port left out (e.g. for robots.txt)."""
    u = url if isinstance(url, httpx.URL) else httpx.URL(url)
    port = u.port if u.port and u.port != DEFAULT_PORTS.get(u.scheme) else None
    return f"{u.scheme}://{authority(u.host, port)}"
