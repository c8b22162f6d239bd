"""``vigil scan URL`` goes through the crawler's SSRF guard: private, loopback and link-local addresses are
refused after DNS resolution and on every redirect hop unless the configuration allows them. A local
server on 127.0.0.1 stands in for the far end; the real client, guard and transport run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.webserver import LocalWeb, Reply, not_found, redirect, serve
from vigil.config import Config
from vigil.detect.watchlist import WatchlistDetector
from vigil.ingest.scan import Scanner
from vigil.net.guard import StaticResolver
from vigil.sources import samples
from vigil.store import Store

DETECTOR = WatchlistDetector(terms={"flagged-term": 1.0})
FEED = samples.rss(
    "Remote",
    "https://example.org/",
    [
        {"title": f"Neutral notice {i}", "guid": f"urn:n{i}", "link": f"https://example.org/n{i}"}
        for i in range(3)
    ],
).encode()


def route(web: LocalWeb) -> object:
    def answer(host: str, path: str, headers: dict[str, str]) -> Reply:
        if path == "/feed.xml":
            return 200, {"Content-Type": "application/rss+xml"}, FEED
        if path == "/via-redirect":
            return redirect(web.url("feeds.test", "/feed.xml"))
        if path == "/to-metadata":
            return redirect("http://metadata.test/latest/meta-data/")
        if path == "/to-private":
            return redirect("http://10.20.30.40/feed.xml")
        if path == "/to-localhost":
            return redirect(f"http://localhost:{web.port}/feed.xml")
        return not_found()

    return answer


@pytest.fixture
def web() -> object:
    routes: dict[str, object] = {}
    with serve(lambda h, p, hd: routes["r"](h, p, hd)) as local:  # type: ignore[operator]
        routes["r"] = route(local)
        yield local


def scan(config: Config, store: Store, url: str, resolver: StaticResolver | None = None) -> object:
    return Scanner(config, store, [DETECTOR], resolver=resolver).scan(url)


def test_loopback_refused_without_the_allow_setting(home: Path, store: Store, web: LocalWeb) -> None:
    config = Config.load(home)
    assert config.allow_private_addresses is False and config.allowed_networks == ()
    by_address = scan(config, store, web.url("127.0.0.1", "/feed.xml"))
    # "localhost" goes through the system resolver: refused on the address it resolves to
    by_name = scan(config, store, f"http://localhost:{web.port}/feed.xml")
    assert web.log == []  # refused before connecting: the server never saw a request
    for summary in (by_address, by_name):
        assert summary.items == 0  # type: ignore[attr-defined]
        (error,) = summary.errors  # type: ignore[attr-defined]
        assert error["reason"].startswith("refused: ") and "loopback address" in error["reason"]
    assert "127.0.0.1 is a loopback address" in by_address.errors[0]["reason"]  # type: ignore[attr-defined]
    assert store.count("items") == 0


def test_fetched_with_the_allow_setting(home: Path, store: Store, web: LocalWeb) -> None:
    config = Config.load(home, allow_private_addresses=True)
    first = scan(config, store, f"http://localhost:{web.port}/feed.xml")
    again = scan(
        config,
        store,
        web.url("feeds.test", "/via-redirect"),
        StaticResolver({"feeds.test": "127.0.0.1"}),
    )
    assert (first.items, first.new_items, first.errors) == (3, 3, [])  # type: ignore[attr-defined]
    assert (again.items, again.new_items, again.errors) == (3, 0, [])  # type: ignore[attr-defined]
    assert [p for _, p, _ in web.log] == ["/feed.xml", "/via-redirect", "/feed.xml"]
    assert all(h["user-agent"] == config.user_agent for _, _, h in web.log)
    assert store.count("items") == 3


def test_every_redirect_hop_is_checked(home: Path, store: Store, web: LocalWeb) -> None:
    """127.0.0.1 allowed as a network; redirects to a metadata address, a private one or a name that
    resolves to another loopback form are refused at that hop."""
    config = Config.load(home, allowed_networks=("127.0.0.1/32",))
    resolver = StaticResolver(
        {"feeds.test": "127.0.0.1", "metadata.test": "169.254.169.254", "localhost": "::1"}
    )
    ok = scan(config, store, web.url("feeds.test", "/feed.xml"), resolver)
    reasons = {
        path: scan(config, store, web.url("feeds.test", path), resolver).errors[0]["reason"]  # type: ignore[attr-defined]
        for path in ("/to-metadata", "/to-private", "/to-localhost")
    }
    assert ok.items == 3  # type: ignore[attr-defined]
    assert "169.254.169.254 is a link-local address" in reasons["/to-metadata"]
    assert "10.20.30.40 is a private address" in reasons["/to-private"]
    assert "::1 is a loopback address" in reasons["/to-localhost"]
    assert [p for _, p, _ in web.log] == ["/feed.xml", "/to-metadata", "/to-private", "/to-localhost"]


def test_size_limit_and_http_errors(home: Path, store: Store, web: LocalWeb) -> None:
    small = Config.load(home, allow_private_addresses=True, max_file_bytes=100)
    too_big = scan(small, store, web.url("127.0.0.1", "/feed.xml"))
    missing = scan(Config.load(home, allow_private_addresses=True), store, web.url("127.0.0.1", "/gone"))
    assert too_big.errors[0]["reason"].startswith("larger than 100 bytes")  # type: ignore[attr-defined]
    assert missing.errors[0]["reason"] == "HTTP 404"  # type: ignore[attr-defined]
    assert store.count("items") == 0


def test_cli_scan_url_with_and_without_the_allow_setting(home: Path, web: LocalWeb) -> None:
    env = {**os.environ, "VIGIL_HOME": str(home)}
    for key in ("VIGIL_DATABASE_URL", "VIGIL_ALLOW_PRIVATE_ADDRESSES", "VIGIL_ALLOWED_NETWORKS"):
        env.pop(key, None)
    url = web.url("127.0.0.1", "/feed.xml")
    command = [sys.executable, "-m", "vigil", "scan", "--json", url]
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    allowed = subprocess.run(
        command,
        env={**env, "VIGIL_ALLOW_PRIVATE_ADDRESSES": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 0 and allowed.returncode == 0, refused.stderr + allowed.stderr
    no = json.loads(refused.stdout)
    yes = json.loads(allowed.stdout)
    assert no["items"] == 0 and "127.0.0.1 is a loopback address" in no["errors"][0]["reason"]
    assert yes["items"] == 3 and yes["errors"] == []
    assert [p for _, p, _ in web.log] == ["/feed.xml"]
