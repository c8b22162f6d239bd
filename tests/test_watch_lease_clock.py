"""Leases are decided by the database's clock, on SQLite and PostgreSQL: holders whose own clocks are hours
apart neither steal a live lease nor keep an expired one, an expired lease is taken exactly once among
holders racing for it, and a holder that lost its lease mid-run stops writing and commits nothing to the
source."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

import vigil.core.model
from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import Item
from vigil.ingest.pipeline import BatchResult, Pipeline
from vigil.store import Store
from vigil.store.clock import database_now, db_later
from vigil.watch.history import RunRecord, finish, recent_runs
from vigil.watch.lease import claim, renew
from vigil.watch.registry import add_source, due_sources, get_source, next_due_in
from vigil.watch.runner import WatchRunner
from vigil.watch.tables import watch_sources

REAL_UTCNOW = vigil.core.model.utcnow
HOUR = 3600.0


@pytest.fixture
def skew(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """``skew(s)`` puts the calling thread's Python clock ``s`` seconds off the real one: every vigil module's
    ``utcnow`` (the only clock the watch code reads for times) is replaced by a per-thread skewed one."""
    offsets = threading.local()

    def skewed() -> object:
        return REAL_UTCNOW() + timedelta(seconds=getattr(offsets, "s", 0.0))

    for name, module in list(sys.modules.items()):
        if name.startswith("vigil") and getattr(module, "utcnow", None) is REAL_UTCNOW:
            monkeypatch.setattr(module, "utcnow", skewed)

    def set_skew(seconds: float) -> None:
        offsets.s = seconds

    return set_skew


def expire(store: Store) -> None:
    with store.write() as conn:
        conn.execute(update(watch_sources).values(lease_until=db_later(-1)))


def lease(store: Store) -> tuple[str | None, int]:
    with store.read() as conn:
        row = conn.execute(select(watch_sources.c.lease_owner, watch_sources.c.lease_generation)).one()
    return row[0], row[1]


def test_skewed_clocks_never_steal_a_live_lease(store: Store, skew: Callable[[float], None]) -> None:
    skew(HOUR)  # the source is added by a machine an hour ahead: still due now, by the database
    source = add_source(store, "s", "folder", "/nowhere", interval_s=30)
    skew(-HOUR)
    a = claim(store, source.id, "a", 30)  # an hour behind: due all the same
    assert a is not None
    skew(24 * HOUR)  # a day ahead: by its own clock a's lease ended long ago
    assert claim(store, source.id, "b", 30) is None
    assert due_sources(store) == []
    wait = next_due_in(store)
    assert wait is not None and 25 < wait <= 30  # the lease's end, on the database's clock
    skew(-HOUR)
    assert claim(store, source.id, "c", 30) is None
    skew(24 * HOUR)
    assert renew(store, source.id, "a", 30, a.lease_generation)  # the holder's skew does not matter either
    assert lease(store) == ("a", a.lease_generation)


def test_an_expired_lease_is_taken_once_whatever_the_clocks(
    store: Store, config: Config, skew: Callable[[float], None]
) -> None:
    source = add_source(store, "s", "folder", "/nowhere", interval_s=30)
    dead = claim(store, source.id, "dead", 1.0)
    assert dead is not None
    time.sleep(1.2)  # the lease runs out on the database's clock
    skews = [-24 * HOUR, -HOUR, -60.0, 0.0, 60.0, HOUR]  # the ones behind think it still holds
    url = store.engine.url.render_as_string(hide_password=False)
    stores = [open_store(config, url=url) for _ in skews]  # one per holder, as separate processes
    start = threading.Barrier(len(skews))
    won: list[str] = []
    errors: list[BaseException] = []

    def race(n: int) -> None:
        skew(skews[n])
        try:
            start.wait()
            if claim(stores[n], source.id, f"h{n}", 30) is not None:
                won.append(f"h{n}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(len(skews))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for s in stores:
        s.close()
    assert not errors, errors
    assert len(won) == 1
    assert lease(store) == (won[0], dead.lease_generation + 1)
    skew(-24 * HOUR)  # the old holder's clock says its lease holds: the database says not
    assert not renew(store, source.id, "dead", 30, dead.lease_generation)
    before = get_source(store, "s")
    t = REAL_UTCNOW()
    finish(store, dead, RunRecord(t, t, True, 5, 5), {"cursor": "stale"}, "dead")
    after = get_source(store, "s")
    assert before is not None and after is not None
    assert (after.next_due_at, after.state, after.lease_owner) == (before.next_due_at, {}, won[0])


def test_an_expired_lease_nobody_took_commits_nothing(store: Store) -> None:
    source = add_source(store, "s", "folder", "/nowhere", interval_s=30)
    mine = claim(store, source.id, "a", 30)
    assert mine is not None
    expire(store)
    t = REAL_UTCNOW()
    finish(store, mine, RunRecord(t, t, True, 2, 2), {"cursor": 1}, "a")
    after = get_source(store, "s")
    assert after is not None and after.state == {} and after.last_success_at is None
    assert after.lease_owner == "a"  # left for the next claim, which the expiry allows
    assert [r["ok"] for r in recent_runs(store)[source.id]] == [True]  # kept in the history
    assert claim(store, source.id, "b", 30) is not None


def test_a_run_stops_writing_when_its_lease_is_lost(
    tmp_path: Path, store: Store, config: Config, skew: Callable[[float], None]
) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    for n in range(4):  # one batch per file
        lines = [json.dumps({"id": f"{n}-{k}", "text": f"a neutral post {n}-{k}"}) for k in range(3)]
        (folder / f"part{n}.jsonl").write_text("\n".join(lines) + "\n")
    source = add_source(store, "drop", "folder", str(folder), fmt="jsonl", interval_s=30)
    pipeline = Pipeline(store, [], hooks=[])

    class StallsAfterFirstBatch:
        """The real pipeline; after its first batch the holder stalls past its lease and another
        process (its clock a day ahead) takes the source over."""

        def __init__(self) -> None:
            self.batches = 0

        def process(self, batch: Sequence[Item]) -> BatchResult:
            self.batches += 1
            done = pipeline.process(batch)
            if self.batches == 1:
                expire(store)
                skew(24 * HOUR)
                assert claim(store, source.id, "other", 30) is not None
                skew(0)
            return done

    sink = StallsAfterFirstBatch()
    skew(-HOUR)
    runner = WatchRunner(config, store, [], sink=sink, lease_s=30, owner="stalled")
    (result,) = runner.run_due()
    assert sink.batches == 1  # the later batches were refused before they were written
    assert store.count("items") == 3
    assert not result.ok and result.error and "lease" in result.error
    after = get_source(store, "drop")
    assert after is not None and after.lease_owner == "other" and after.last_run_at is None
    assert after.items_total == 0 and after.consecutive_failures == 0
    (run,) = recent_runs(store)[source.id]
    assert run["owner"] == "stalled" and not run["ok"]


def test_the_database_clock_is_the_servers(store: Store, skew: Callable[[float], None]) -> None:
    skew(24 * HOUR)
    told = database_now(store)
    assert abs((told - REAL_UTCNOW()).total_seconds()) < 5  # this machine's server, unskewed
    with store.read() as conn:
        later = conn.execute(select(db_later(90.5))).scalar_one()
    assert 89 < (later - told).total_seconds() < 95


@pytest.fixture(autouse=True)
def _no_leftover_threads() -> Iterator[None]:
    before = {t.name for t in threading.enumerate()}
    yield
    assert not {t.name for t in threading.enumerate() if t.name.startswith("lease-")} - before
