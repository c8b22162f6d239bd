"""Leases on watched sources, on SQLite and PostgreSQL: two ``vigil watch serve`` processes on one store
never run the same source at once and share the work; a SIGKILLed one's lease expires and another takes
the source over then, not before; SIGTERM releases what a process holds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.webserver import Reply, serve
from vigil.core.model import utcnow
from vigil.store import Store
from vigil.store.clock import db_later
from vigil.watch.history import RunRecord, finish, recent_runs
from vigil.watch.lease import claim, release_all, renew
from vigil.watch.registry import add_source, due_sources, get_source
from vigil.watch.tables import watch_runs, watch_sources


class SlowFeed:
    """JSON Lines feeds at /f<n>.jsonl, each answer ``delay`` seconds long; counts requests in flight per
    path (the most ever seen is what the test checks) and logs (path, start, end)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.in_flight: dict[str, int] = {}
        self.most: dict[str, int] = {}
        self.log: list[tuple[str, float, float]] = []

    def route(self, host: str, path: str, headers: dict[str, str]) -> Reply:
        start = time.monotonic()
        with self.lock:
            self.in_flight[path] = self.in_flight.get(path, 0) + 1
            self.most[path] = max(self.most.get(path, 0), self.in_flight[path])
        try:
            time.sleep(self.delay)
            body = json.dumps({"id": f"{path}-1", "text": "a neutral post"}).encode() + b"\n"
            return 200, {"Content-Type": "application/x-ndjson"}, body
        finally:
            with self.lock:
                self.in_flight[path] -= 1
                self.log.append((path, start, time.monotonic()))


def serve_process(home: Path, database_url: str, lease: float) -> subprocess.Popen[str]:
    env = {**os.environ, "VIGIL_HOME": str(home), "VIGIL_ALLOW_PRIVATE_ADDRESSES": "1"}
    env.pop("VIGIL_DATABASE_URL", None)
    if not database_url.startswith("sqlite"):
        env["VIGIL_DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "vigil", "watch", "serve", "--poll", "0.2", "--lease", str(lease)]
    command += ["--resolve", "feeds.test=127.0.0.1"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _, errs = proc.communicate(timeout=60)
    assert proc.returncode == 0, errs
    return errs


def leases(store: Store) -> list[tuple[str | None, object]]:
    with store.read() as conn:
        rows = conn.execute(select(watch_sources.c.lease_owner, watch_sources.c.lease_until)).all()
    return [(r[0], r[1]) for r in rows]


def make_due(store: Store) -> None:
    with store.write() as conn:
        conn.execute(update(watch_sources).values(next_due_at=utcnow() - timedelta(seconds=1)))


def expire(store: Store) -> None:
    """End every lease now, by the database's clock (as ``lease_s`` passing would)."""
    with store.write() as conn:
        conn.execute(update(watch_sources).values(lease_until=db_later(-1)))


def test_claim_renew_expire_release(store: Store) -> None:
    source = add_source(store, "s", "folder", "/nowhere", interval_s=30)
    mine = claim(store, source.id, "a", 10)
    assert mine is not None and mine.lease_owner == "a"
    assert claim(store, source.id, "b", 10) is None  # held
    assert due_sources(store) == []  # a held source is nobody else's work
    assert renew(store, source.id, "a", 10, mine.lease_generation)
    expire(store)
    assert not renew(store, source.id, "a", 10, mine.lease_generation)  # expired: a must stop
    theirs = claim(store, source.id, "b", 10)  # expired: taken over
    assert theirs is not None and theirs.lease_generation == mine.lease_generation + 1
    assert not renew(store, source.id, "a", 10, mine.lease_generation)  # a lost it
    assert not renew(store, source.id, "b", 10, mine.lease_generation)  # an older take of the lease
    assert renew(store, source.id, "b", 10, theirs.lease_generation)
    assert release_all(store, "a") == 0 and release_all(store, "b") == 1
    assert leases(store) == [(None, None)]


def test_finish_releases_and_moves_the_schedule(store: Store) -> None:
    source = add_source(store, "s", "folder", "/nowhere", interval_s=30)
    claimed = claim(store, source.id, "a", 10)
    assert claimed is not None
    t = utcnow()
    assert finish(store, claimed, RunRecord(t, t, True, 4, 3, 1), {"k": 1}, "a") is None
    assert claim(store, source.id, "b", 10) is None  # released, but not due any more
    make_due(store)
    claimed = claim(store, source.id, "b", 10)
    assert claimed is not None
    assert finish(store, claimed, RunRecord(t, t, False, error="down"), {}, "b") == 60.0
    # a run whose lease was lost is kept in the history but does not move the schedule
    make_due(store)
    taken = claim(store, source.id, "c", 10)
    assert taken is not None
    expire(store)
    assert claim(store, source.id, "d", 10) is not None
    before = get_source(store, "s")
    finish(store, taken, RunRecord(t, t, True, 1, 1), {}, "c")
    after = get_source(store, "s")
    assert before is not None and after is not None
    assert after.next_due_at == before.next_due_at and after.lease_owner == "d"
    runs = recent_runs(store)[source.id]
    assert [(r["ok"], r["new_items"], r["owner"]) for r in runs] == [
        (True, 3, "a"),
        (False, 0, "b"),
        (True, 1, "c"),
    ]
    assert after.items_total == 3 and after.consecutive_failures == 1 and after.last_error == "down"


def test_history_is_pruned_per_source(store: Store) -> None:
    one = add_source(store, "one", "folder", "/a")
    two = add_source(store, "two", "folder", "/b")
    t = utcnow()
    for n in range(7):
        finish(store, one, RunRecord(t, t, True, n, n), {}, keep=3)
    finish(store, two, RunRecord(t, t, True, 9, 9), {}, keep=3)
    runs = recent_runs(store, per_source=2)
    assert [r["items"] for r in runs[one.id]] == [5, 6] and [r["items"] for r in runs[two.id]] == [9]
    with store.read() as conn:
        assert len(conn.execute(select(watch_runs.c.id)).all()) == 4


@pytest.mark.slow
def test_two_serve_processes_never_run_a_source_at_once(
    home: Path, store: Store, database_url: str, procs: list[subprocess.Popen[str]]
) -> None:
    feed = SlowFeed(delay=0.4)
    with serve(feed.route) as web:
        for n in range(4):
            add_source(store, f"f{n}", "feed", web.url("feeds.test", f"/f{n}.jsonl"), interval_s=1.0)
        procs.extend(serve_process(home, database_url, lease=10) for _ in range(2))
        deadline = time.monotonic() + 120
        while len(feed.log) < 24 and time.monotonic() < deadline:
            time.sleep(0.2)
        errs = [stop(p) for p in procs]
        log = list(feed.log)
    assert len(log) >= 24, errs
    assert feed.most == {f"/f{n}.jsonl": 1 for n in range(4)}  # never two requests for a source at once
    with store.read() as conn:
        rows = conn.execute(
            select(
                watch_runs.c.source_id, watch_runs.c.owner, watch_runs.c.started_at, watch_runs.c.finished_at
            ).order_by(watch_runs.c.source_id, watch_runs.c.started_at)
        ).all()
    owners = {r.owner for r in rows}
    assert len(owners) == 2  # both processes did work
    for a, b in pairwise(rows):
        if a.source_id == b.source_id:
            assert a.finished_at <= b.started_at  # runs of one source never overlap
    assert all(owner is None for owner, _ in leases(store))  # SIGTERM released every lease
    assert all("stopped after" in e for e in errs)


@pytest.mark.slow
def test_a_killed_process_lease_expires_then_another_takes_over(
    home: Path, store: Store, database_url: str, procs: list[subprocess.Popen[str]]
) -> None:
    feed = SlowFeed(delay=0.1)
    hold = threading.Event()
    first_request = threading.Event()

    def route(host: str, path: str, headers: dict[str, str]) -> Reply:
        if not first_request.is_set():
            first_request.set()
            hold.wait(60)  # the first process dies mid-run, in this request
            return 503, {}, b"the client is gone"
        return feed.route(host, path, headers)

    lease = 12.0
    with serve(route) as web:
        add_source(store, "feed", "feed", web.url("feeds.test", "/f0.jsonl"), interval_s=1.0)
        first = serve_process(home, database_url, lease)
        procs.append(first)
        assert first_request.wait(120)
        first.kill()
        first.communicate(timeout=30)
        ((owner, until),) = leases(store)
        assert owner is not None and f":{first.pid}:" in owner and until is not None
        second = serve_process(home, database_url, lease)
        procs.append(second)
        assert second.stderr is not None
        ready = ""
        while "watching as" not in ready:  # then it is looking at the schedule
            ready = second.stderr.readline()
            assert ready or second.poll() is None, "the second process ended"
        ready_at = utcnow()
        hold.set()
        deadline = time.monotonic() + 120
        while not feed.log and time.monotonic() < deadline:
            time.sleep(0.05)
        taken_at = utcnow()
        stop(second)
    assert "watching as" in ready and ready_at < until  # the second process was up before the expiry
    assert feed.log and taken_at >= until - timedelta(seconds=0.5)  # and waited for it
    health = get_source(store, "feed")
    assert health is not None and health.last_success_at is not None and health.lease_owner is None
    (run,) = [r for r in recent_runs(store)[health.id] if r["ok"]][:1]
    assert run["owner"] != owner and f":{second.pid}:" in run["owner"]
