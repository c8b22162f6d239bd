"""The one HTTP policy and its parts, against servers on 127.0.0.1: a proxy named in the environment cannot
carry a request past the SSRF guard (async and sync faces); the host limiter's two faces space requests
alike; the webhook sender retries only what is worth retrying."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import pytest

from tests.local_servers import Page, web_server
from tests.webserver import html, serve
from vigil.config import Config
from vigil.net.client import fetch_sync
from vigil.net.guard import BlockedAddress, StaticResolver
from vigil.net.limits import HostLimiter
from vigil.net.policy import HttpPolicy
from vigil.net.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSender

PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


def test_a_proxy_from_the_environment_does_not_bypass_the_guard(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(lambda host, path, headers: html("<p>through the proxy</p>")) as proxy:
        for name in PROXY_VARIABLES:
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        config = Config.load(home)  # private addresses refused
        got = fetch_sync(config, "http://inside.test/", resolver=StaticResolver({"inside.test": "127.0.0.1"}))
        assert got.blocked and "loopback" in (got.error or ""), got
        with (
            HttpPolicy.from_config(config).sync_client(lambda host, port: ["127.0.0.1"]) as client,
            pytest.raises(BlockedAddress, match="loopback"),
        ):
            client.get("http://inside.test/")
    assert proxy.log == []


def test_host_limiter_async_face_spaces_starts_per_host() -> None:
    limiter = HostLimiter(2, 0.15)
    starts: list[tuple[str, float]] = []

    async def one(host: str) -> None:
        async with limiter.slot(host):
            starts.append((host, time.monotonic()))

    async def run(*hosts: str) -> None:
        await asyncio.gather(*(one(h) for h in hosts))

    began = time.monotonic()
    asyncio.run(run("a", "a", "b", "a"))
    a = [t for h, t in starts if h == "a"]
    b = [t for h, t in starts if h == "b"]
    assert len(a) == 3 and all(later - earlier >= 0.14 for earlier, later in itertools.pairwise(a))
    assert b[0] - began < 0.1  # another host does not wait for this one
    limiter.set_delay("a", 0.01)  # never below the default
    limiter.set_delay("c", 0.3)
    starts.clear()
    asyncio.run(run("c", "c"))
    assert starts[1][1] - starts[0][1] >= 0.29 and limiter.waited > 0


def test_webhook_sender_retries_server_errors_only(config: Config) -> None:
    pauses: list[float] = []
    with web_server() as web, WebhookSender(config, None, 3, 0.1, sleep=pauses.append) as sender:
        web.pages["/hook"] = Page(204, b"")
        web.sequence["/hook"] = [Page(429, b""), Page(404, b"")]
        refused = sender.post(web.url("/hook"), {"n": 1})
        assert (refused.ok, refused.attempts, refused.answers, refused.error) == (
            False,
            2,
            ["429", "404"],
            "HTTP 404",
        )
        assert not refused.retryable and pauses == [0.1]
        delivered = sender.post(web.url("/hook"), {"n": 2})
        assert delivered.ok and delivered.attempts == 1 and delivered.error == ""
        headers = web.requests[-1][1]
        assert TIMESTAMP_HEADER in headers and SIGNATURE_HEADER not in headers  # no secret: not signed
    with WebhookSender(config, b"k" * 16, 1, 0.1, timeout=2, sleep=pauses.append) as sender:
        down = sender.post("http://127.0.0.1:9/none", {"n": 3})
    assert down.attempts == 2 and down.retryable and down.error.startswith("ConnectError")
