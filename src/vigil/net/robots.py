"""robots.txt, per origin, fetched through the same guarded client (RFC 9309 rules for failures).

Part of the async face: every ``PoliteFetcher`` has one (``fetcher.robots``), which the crawler and the
media fetch pass as the ``gate`` of their fetches."""

from __future__ import annotations

import asyncio
from typing import Protocol
from urllib.robotparser import RobotFileParser

import httpx

from vigil.net.limits import HostLimiter
from vigil.net.urls import origin

MAX_ROBOTS_BYTES = 512 * 1024


class _Answer(Protocol):
    @property
    def ok(self) -> bool: ...
    @property
    def status(self) -> int: ...
    @property
    def body(self) -> bytes: ...
    @property
    def blocked(self) -> bool: ...


class _Fetch(Protocol):
    """What the cache needs of its fetcher (``vigil.net.client.PoliteFetcher``)."""

    @property
    def limiter(self) -> HostLimiter: ...
    async def get(self, url: str, *, max_bytes: int | None = None) -> _Answer: ...


def origin_of(url: str) -> str:
    """Where a URL's robots.txt lives: its origin (an IPv6 literal keeps its brackets)."""
    return origin(url)


class RobotsCache:
    """Answers ``allowed(url)``. A 4xx robots.txt allows everything; an unreachable one or a 5xx forbids
    everything on that origin (RFC 9309 §2.3.1)."""

    def __init__(self, fetcher: _Fetch, user_agent: str) -> None:
        self.fetcher = fetcher
        self.agent = user_agent.split("/", 1)[0]
        self._parsers: dict[str, RobotFileParser] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def parser(self, url: str) -> RobotFileParser:
        origin = origin_of(url)
        found = self._parsers.get(origin)
        if found is not None:
            return found
        async with self._locks.setdefault(origin, asyncio.Lock()):  # one fetch per origin, however asked
            found = self._parsers.get(origin)
            return found if found is not None else await self._fetch(origin, url)

    async def _fetch(self, origin: str, url: str) -> RobotFileParser:
        rp = RobotFileParser()
        got = await self.fetcher.get(origin + "/robots.txt", max_bytes=MAX_ROBOTS_BYTES)
        if got.ok:
            rp.parse(got.body.decode("utf-8", "replace").splitlines())
        elif 400 <= got.status < 500 or got.blocked:
            rp.parse([])  # allows all. Blocked: the guard refuses the pages too, and says so
        else:
            rp.parse(["User-agent: *", "Disallow: /"])
        delay = rp.crawl_delay(self.agent)
        if delay:
            self.fetcher.limiter.set_delay(httpx.URL(url).host, float(delay))
        self._parsers[origin] = rp
        return rp

    async def allowed(self, url: str) -> bool:
        return (await self.parser(url)).can_fetch(self.agent, url)
