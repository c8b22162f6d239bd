"""Per-host politeness: ``delay`` seconds at least between two request starts to one host, and (async face)
at most ``concurrency`` requests to it in flight.

One limiter, two faces: ``async with limiter.slot(host)`` for the crawler and media fetch (``PoliteFetcher``),
``limiter.wait(host)`` for synchronous callers (re-checks). A host's delay may be raised (robots.txt
``Crawl-delay``), never lowered below the default.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class HostLimiter:
    def __init__(
        self,
        concurrency: int = 2,
        delay: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``clock`` and ``sleep`` are the sync face's (tests give fakes); the async face sleeps on the
        event loop, by the same ``clock``."""
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self.delay = max(0.0, delay)
        self.clock = clock
        self.sleep = sleep
        #: Seconds spent waiting so far (both faces).
        self.waited = 0.0
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._next_start: dict[str, float] = {}
        self._delays: dict[str, float] = {}

    def set_delay(self, host: str, delay: float) -> None:
        """A longer delay for one host (e.g. its robots.txt Crawl-delay); never shorter than the default."""
        self._delays[host] = max(self.delay, delay)

    def _pause(self, host: str) -> float:
        """How long a request to ``host`` must wait from now."""
        return max(0.0, self._next_start.get(host, float("-inf")) - self.clock())

    def _started(self, host: str) -> None:
        self._next_start[host] = self.clock() + self._delays.get(host, self.delay)

    def wait(self, host: str) -> None:
        """Sync face: block until a request to ``host`` may start, and count it as started."""
        pause = self._pause(host)
        if pause > 0:
            self.sleep(pause)
            self.waited += pause
        self._started(host)

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Async face: hold one of the host's ``concurrency`` slots for the request's duration."""
        async with self._slots.setdefault(host, asyncio.Semaphore(self.concurrency)):
            async with self._locks.setdefault(host, asyncio.Lock()):
                pause = self._pause(host)
                if pause > 0:
                    await asyncio.sleep(pause)
                    self.waited += pause
                self._started(host)
            yield
