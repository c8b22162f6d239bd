"""Watched sources: a JSON Lines feed over HTTP (conditional GET), a folder, a failing source backed
off and its health on record, and ``vigil watch serve`` stopped by SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.webserver import Reply, serve
from vigil.audit.log import verify
from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import utcnow
from vigil.detect.watchlist import WatchlistDetector
from vigil.errors import UsageError
from vigil.net.guard import StaticResolver
from vigil.store import Store
from vigil.watch.health import source_health
from vigil.watch.registry import add_source, backoff_s, get_source
from vigil.watch.runner import WatchRunner
from vigil.watch.tables import watch_sources

DETECTOR = WatchlistDetector(terms={"flagged-term": 1.0})
RESOLVER = StaticResolver({"feeds.test": "127.0.0.1"})


class Feed:
    """A JSON Lines feed whose posts the test adds; answers 304 to a matching If-None-Match."""

    def __init__(self) -> None:
        self.posts: list[dict[str, str]] = []
        self.status = 200

    def route(self, host: str, path: str, headers: dict[str, str]) -> Reply:
        if self.status != 200:
            return self.status, {}, b"down"
        body = "".join(json.dumps(p) + "\n" for p in self.posts).encode()
        etag = f'"{len(self.posts)}"'
        if headers.get("if-none-match") == etag:
            return 304, {"ETag": etag}, b""
        return 200, {"Content-Type": "application/x-ndjson", "ETag": etag}, body


def make_due(store: Store) -> None:
    with store.write() as conn:
        conn.execute(update(watch_sources).values(next_due_at=utcnow() - timedelta(seconds=1)))


def test_feed_over_http(home: Path, store: Store) -> None:
    config = Config.load(home, allow_private_addresses=True)
    feed = Feed()
    feed.posts = [{"id": "1", "text": "a neutral post"}, {"id": "2", "text": "another neutral post"}]
    with serve(feed.route) as web:
        add_source(store, "feed", "feed", web.url("feeds.test", "/posts.jsonl"), interval_s=30)
        runner = WatchRunner(config, store, [DETECTOR], resolver=RESOLVER)
        first = runner.run_due()
        assert [(r.ok, r.new_items, r.cases) for r in first] == [(True, 2, 0)]
        assert runner.run_due() == []  # not due again for 30 s
        make_due(store)
        assert [(r.ok, r.items) for r in runner.run_due()] == [(True, 0)]  # 304: nothing read
        feed.posts.append({"id": "3", "text": "a post with a flagged-term in it"})
        make_due(store)
        third = runner.run_due()
        sent = [h.get("if-none-match") for _, _, h in web.log]
    assert [(r.ok, r.new_items, r.cases) for r in third] == [(True, 1, 1)]
    assert sent == [None, '"2"', '"2"']
    source = get_source(store, "feed")
    assert source is not None and source.health == "ok" and source.items_total == 3
    assert source.state["etag"] == '"3"'
    assert source.next_due_at is not None and source.next_due_at > utcnow() + timedelta(seconds=25)
    assert store.count("cases") == 1


def test_failing_source_backs_off_and_recovers(home: Path, store: Store) -> None:
    config = Config.load(home, allow_private_addresses=True)
    feed = Feed()
    feed.status = 503
    with serve(feed.route) as web:
        add_source(store, "flaky", "feed", web.url("feeds.test", "/posts.jsonl"), interval_s=10)
        runner = WatchRunner(config, store, [DETECTOR], resolver=RESOLVER)
        delays = []
        for _ in range(3):
            make_due(store)
            (result,) = runner.run_due()
            assert not result.ok and result.error and "HTTP 503" in result.error
            delays.append(result.retry_in_s)
        health = source_health(store)[0]
        feed.status = 200
        feed.posts = [{"id": "1", "text": "back again"}]
        make_due(store)
        (ok,) = runner.run_due()
    assert delays == [20.0, 40.0, 80.0]
    assert health["health"] == "failing" and health["consecutive_failures"] == 3
    assert "HTTP 503" in health["last_error"] and health["last_success_at"] is None
    assert ok.ok and ok.new_items == 1
    after = get_source(store, "flaky")
    assert after is not None and after.consecutive_failures == 0 and after.health == "ok"
    assert after.last_error and "503" in after.last_error  # the last error stays on record


def test_backoff_is_capped() -> None:
    assert backoff_s(30, 1) == 60 and backoff_s(30, 30) == 6 * 3600


def test_folder_source_and_missing_folder(home: Path, store: Store, tmp_path: Path) -> None:
    config = Config.load(home)
    export = tmp_path / "export"
    export.mkdir()
    (export / "a.jsonl").write_text('{"id": "1", "text": "hello"}\n{bad\n', "utf-8")
    add_source(store, "export", "folder", str(export))
    add_source(store, "gone", "folder", str(tmp_path / "nope"))
    results = {r.source: r for r in WatchRunner(config, store, [DETECTOR]).run_due()}
    assert results["export"].ok and results["export"].new_items == 1
    assert not results["gone"].ok and "no such file or folder" in (results["gone"].error or "")
    assert store.count("quarantine") == 1


def test_add_validates_and_audits(home: Path, store: Store) -> None:
    with pytest.raises(UsageError):
        add_source(store, "x", "carrier-pigeon", "somewhere")
    with pytest.raises(UsageError):
        add_source(store, "x", "site", "http://a.test/", robots_override="  ")
    add_source(store, "x", "site", "http://a.test/", robots_override="court order 12/2026")
    with pytest.raises(UsageError):
        add_source(store, "x", "feed", "http://b.test/")
    result = verify(store)
    assert result.ok and result.entries == 2  # watch.add and watch.robots_override


def test_serve_stops_on_sigterm(home: Path, tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    (export / "a.jsonl").write_text('{"id": "1", "text": "a flagged-term"}\n', "utf-8")
    (home / "watchlist.txt").write_text("flagged-term\n", "utf-8")
    env = {**os.environ, "VIGIL_HOME": str(home)}
    env.pop("VIGIL_DATABASE_URL", None)
    vigil = [sys.executable, "-m", "vigil"]
    added = subprocess.run(
        [*vigil, "watch", "add", "folder", str(export), "--name", "ex"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    proc = subprocess.Popen(
        [*vigil, "watch", "serve", "--poll", "0.2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        store = open_store(Config.load(home))
        deadline = time.monotonic() + 120
        while store.count("cases") == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert store.count("cases") == 1
        proc.send_signal(signal.SIGTERM)
        out, errs = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, errs
    assert "stopped after 1 source runs" in errs
    assert json.loads(out.splitlines()[0])["new_items"] == 1
    (row,) = source_health(store)
    assert row["name"] == "ex" and row["health"] == "ok" and row["items_total"] == 1
    store.close()


@pytest.mark.slow
def test_new_post_becomes_a_case_within_60s_at_the_default_schedule(home: Path) -> None:
    config = Config.load(home, allow_private_addresses=True)
    store = open_store(config)
    feed = Feed()
    feed.posts = [{"id": "0", "text": "a neutral post"}]
    stop = threading.Event()
    with serve(feed.route) as web:
        add_source(store, "feed", "feed", web.url("feeds.test", "/posts.jsonl"))  # the default interval
        runner = WatchRunner(config, store, [DETECTOR], resolver=RESOLVER)
        thread = threading.Thread(target=runner.serve, args=(stop,), kwargs={"poll_s": 1.0})
        thread.start()
        try:
            while not web.log:
                time.sleep(0.05)
            time.sleep(0.5)  # the first pass is over: the new post waits for the next one
            posted = time.monotonic()
            feed.posts.append({"id": "1", "text": "a post with a flagged-term in it"})
            while store.count("cases") == 0 and time.monotonic() - posted < 90:
                time.sleep(0.1)
            latency = time.monotonic() - posted
        finally:
            stop.set()
            thread.join(30)
    assert store.count("cases") == 1
    assert latency < 60
    store.close()


def test_site_source_is_crawled_and_checked_for_mirrors(home: Path, store: Store) -> None:
    from tests.test_mirrors import crawl as crawl_outlet
    from tests.test_mirrors import route

    config = Config.load(home, allow_private_addresses=True)
    with serve(route) as web:
        crawl_outlet(config, store, web, "outlet.test", outlet="Amaq")
        add_source(
            store,
            "copy",
            "site",
            web.url("www.mirror-copy.test"),
            options={"max_pages": 5, "delay": 0},
            robots_override="a test of the override",
        )
        add_source(store, "dead", "site", web.url("nowhere.test"))
        runner = WatchRunner(
            config,
            store,
            [DETECTOR],
            resolver=StaticResolver(dict.fromkeys(("www.mirror-copy.test", "nowhere.test"), "127.0.0.1")),
        )
        results = {r.source: r for r in runner.run_due()}
        robots_asked = [p for h, p, _ in web.log if h == "www.mirror-copy.test" and p == "/robots.txt"]
    assert results["copy"].ok and results["copy"].items == 5  # home + 5 links at depth 1, capped at 5
    assert results["copy"].cases == 1  # the probable-mirror case
    assert robots_asked == []  # overridden, with its reason
    assert not results["dead"].ok and "HTTP 404" in (results["dead"].error or "")
    (case,) = store.list_cases()
    assert case.title == "probable mirror of Amaq (outlet.test) on mirror-copy.test"
