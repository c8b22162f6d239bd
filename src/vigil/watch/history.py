"""A watched source's runs: each outcome moves its schedule on (or backs it off), releases its lease, and
is kept in ``watch_runs`` (the last ``KEEP_RUNS`` per source) for the health page's chart."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from vigil.store import Store
from vigil.store.clock import db_later
from vigil.watch.lease import held
from vigil.watch.registry import WatchSource, backoff_s
from vigil.watch.tables import watch_runs, watch_sources

log = logging.getLogger(__name__)

KEEP_RUNS = 1000


@dataclass(slots=True)
class RunRecord:
    started_at: datetime
    finished_at: datetime
    ok: bool
    items: int = 0
    new_items: int = 0
    cases: int = 0
    error: str | None = None


def finish(
    store: Store,
    source: WatchSource,
    run: RunRecord,
    state: dict[str, Any],
    owner: str | None = None,
    keep: int = KEEP_RUNS,
) -> float | None:
    """Record a run of ``source`` (as claimed: its failure count is the one before this run). On success
    the next run is one interval away; on failure the back-off (returned, in seconds) applies. The lease
    ``owner`` held is released; if it was lost meanwhile, the run is kept in the history but the source's
    schedule is left to the process that holds it now. The same goes when the lease expired (by the
    database's clock) before this commit, or was taken again since ``source`` was claimed (its
    ``lease_generation``): the outcome of a run that outlived its lease is not committed to the source.
    The next due time is counted on the database's clock."""
    now = run.finished_at
    c = watch_sources.c
    values: dict[str, Any] = {"last_run_at": now, "lease_owner": None, "lease_until": None}
    delay: float | None = None
    if run.ok:
        values.update(
            last_success_at=now,
            consecutive_failures=0,
            next_due_at=db_later(source.interval_s),
            items_total=c.items_total + run.new_items,
            state=state,
        )
    else:
        failures = source.consecutive_failures + 1
        delay = backoff_s(source.interval_s, failures)
        values.update(
            last_error=(run.error or "failed")[:2000],
            last_error_at=now,
            consecutive_failures=failures,
            next_due_at=db_later(delay),
        )
    where = [c.id == source.id] if owner is None else held(source.id, owner, source.lease_generation)
    with store.write() as conn:
        kept = conn.execute(update(watch_sources).where(*where).values(values)).rowcount
        if not kept:
            log.warning(
                "watched source %s: lease lost during the run; its schedule is not moved", source.name
            )
        row = {**asdict(run), "source_id": source.id, "owner": owner or "", "error": _short(run.error)}
        conn.execute(watch_runs.insert().values(row))
        _prune(conn, source.id, keep)
    return delay


def _short(error: str | None) -> str | None:
    return error[:2000] if error else None


def _prune(conn: Any, source_id: int, keep: int) -> None:
    oldest_kept = conn.execute(
        select(watch_runs.c.id)
        .where(watch_runs.c.source_id == source_id)
        .order_by(watch_runs.c.id.desc())
        .offset(max(0, keep - 1))
        .limit(1)
    ).scalar()
    if oldest_kept is not None:
        conn.execute(
            delete(watch_runs).where(watch_runs.c.source_id == source_id, watch_runs.c.id < oldest_kept)
        )


def recent_runs(
    store: Store, per_source: int = 50, source_ids: Collection[int] | None = None
) -> dict[int, list[dict[str, Any]]]:
    """The last ``per_source`` runs of every source (or of those in ``source_ids``), oldest first."""
    rank = (
        func.row_number()
        .over(partition_by=watch_runs.c.source_id, order_by=watch_runs.c.id.desc())
        .label("rank")
    )
    runs = select(watch_runs, rank)
    if source_ids is not None:
        runs = runs.where(watch_runs.c.source_id.in_(list(source_ids)))
    ranked = runs.subquery()
    query = select(ranked).where(ranked.c.rank <= per_source).order_by(ranked.c.source_id, ranked.c.id)
    out: dict[int, list[dict[str, Any]]] = {}
    with store.read() as conn:
        for row in conn.execute(query).mappings():
            run = {k: row[k] for k in ("started_at", "finished_at", "ok", "items", "new_items", "cases")}
            run["error"] = row["error"]
            run["owner"] = row["owner"]
            run["seconds"] = round((row["finished_at"] - row["started_at"]).total_seconds(), 3)
            out.setdefault(row["source_id"], []).append(run)
    return out
