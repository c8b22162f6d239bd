"""Watched sources in the store: add, list, remove, and their health (for the CLI, the API and the UI)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from vigil.audit.log import append_in
from vigil.core.model import utcnow
from vigil.errors import UsageError
from vigil.store import Store
from vigil.store.clock import db_now
from vigil.watch.tables import watch_sources

KINDS = ("site", "feed", "folder", "mailbox")
#: The default schedule: a new post in a feed polled this often is seen within this many seconds.
DEFAULT_INTERVAL_S = 30.0
MIN_INTERVAL_S = 1.0
MAX_BACKOFF_S = 6 * 3600.0


@dataclass(slots=True)
class WatchSource:
    id: int
    name: str
    kind: str
    target: str
    fmt: str | None = None
    interval_s: float = DEFAULT_INTERVAL_S
    options: dict[str, Any] = field(default_factory=dict)
    robots_override: str | None = None
    enabled: bool = True
    last_run_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    next_due_at: datetime | None = None
    items_total: int = 0
    state: dict[str, Any] = field(default_factory=dict)
    lease_owner: str | None = None
    lease_until: datetime | None = None
    lease_generation: int = 0

    @property
    def health(self) -> str:
        if not self.enabled:
            return "disabled"
        if self.consecutive_failures:
            return "failing"
        return "ok" if self.last_success_at else "never run"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["health"] = self.health
        for key in ("last_run_at", "last_success_at", "last_error_at", "next_due_at", "lease_until"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


def add_source(
    store: Store,
    name: str,
    kind: str,
    target: str,
    *,
    fmt: str | None = None,
    interval_s: float = DEFAULT_INTERVAL_S,
    options: dict[str, Any] | None = None,
    robots_override: str | None = None,
    actor: str = "cli",
) -> WatchSource:
    if kind not in KINDS:
        raise UsageError(f"unknown source kind {kind!r}; known: {', '.join(KINDS)}")
    if interval_s < MIN_INTERVAL_S:
        raise UsageError(f"interval must be at least {MIN_INTERVAL_S} seconds")
    if robots_override is not None and not robots_override.strip():
        raise UsageError("overriding robots.txt needs a reason")
    now = utcnow()
    row = {
        "name": name,
        "kind": kind,
        "target": target,
        "fmt": fmt,
        "interval_s": float(interval_s),
        "options": options or {},
        "robots_override": robots_override,
        "enabled": True,
        "created_at": now,
        "consecutive_failures": 0,
        "next_due_at": db_now(),  # the schedule runs on the database's clock, as the leases do
        "items_total": 0,
        "state": {},
    }
    try:
        with store.write() as conn:
            inserted = conn.execute(watch_sources.insert().values(row)).inserted_primary_key
            source_id = inserted[0] if inserted else None
            append_in(conn, actor, "watch.add", "watch_source", name, {"kind": kind, "target": target})
            if robots_override:
                append_in(
                    conn, actor, "watch.robots_override", "watch_source", name, {"reason": robots_override}
                )
    except IntegrityError as exc:
        raise UsageError(f"a watched source named {name!r} exists already") from exc
    found = get_source(store, name)
    assert found is not None and found.id == source_id
    return found


def remove_source(store: Store, name: str, actor: str = "cli") -> None:
    with store.write() as conn:
        gone = conn.execute(delete(watch_sources).where(watch_sources.c.name == name)).rowcount
        if not gone:
            raise UsageError(f"no watched source named {name!r}")
        append_in(conn, actor, "watch.remove", "watch_source", name, {})


def set_enabled(store: Store, name: str, enabled: bool, actor: str = "cli") -> None:
    with store.write() as conn:
        done = conn.execute(
            update(watch_sources).where(watch_sources.c.name == name).values(enabled=enabled)
        ).rowcount
        if not done:
            raise UsageError(f"no watched source named {name!r}")
        append_in(conn, actor, "watch.enable" if enabled else "watch.disable", "watch_source", name, {})


def set_robots_override(store: Store, name: str, reason: str | None, actor: str = "cli") -> None:
    """Stop honouring robots.txt for one source, for ``reason`` (recorded), or honour it again (None).
    It covers every hop of the source's crawl: its pages and the lockers, pastes and short links they
    point at."""
    if reason is not None and not reason.strip():
        raise UsageError("overriding robots.txt needs a reason")
    with store.write() as conn:
        done = conn.execute(
            update(watch_sources).where(watch_sources.c.name == name).values(robots_override=reason)
        ).rowcount
        if not done:
            raise UsageError(f"no watched source named {name!r}")
        if reason is None:
            append_in(conn, actor, "watch.robots_honour", "watch_source", name, {})
        else:
            append_in(conn, actor, "watch.robots_override", "watch_source", name, {"reason": reason})


def get_source(store: Store, name: str) -> WatchSource | None:
    with store.read() as conn:
        row = conn.execute(select(watch_sources).where(watch_sources.c.name == name)).mappings().first()
    return row_source(row) if row else None


def list_sources(store: Store) -> list[WatchSource]:
    with store.read() as conn:
        rows = conn.execute(select(watch_sources).order_by(watch_sources.c.name)).mappings().all()
    return [row_source(r) for r in rows]


def due_sources(store: Store) -> list[WatchSource]:
    """Enabled sources whose time has come and that no live lease holds (``vigil.watch.lease``), by the
    database's clock."""
    now = db_now()
    c = watch_sources.c
    with store.read() as conn:
        rows = conn.execute(
            select(watch_sources)
            .where(
                c.enabled.is_(True),
                c.next_due_at <= now,
                or_(c.lease_owner.is_(None), c.lease_until < now),
            )
            .order_by(c.next_due_at, c.name)
        ).mappings()
        return [row_source(r) for r in rows]


def next_due_in(store: Store) -> float | None:
    """Seconds until the next source may be run (by the database's clock; 0 or less: now): its due time,
    or, while another process holds its lease, the lease's end (a run that finishes sooner moves the due
    time on anyway). None when no source is enabled."""
    c = watch_sources.c
    with store.read() as conn:
        now = conn.execute(select(db_now())).scalar_one()
        rows = conn.execute(select(c.next_due_at, c.lease_until).where(c.enabled.is_(True))).all()
    upcoming = min((max(due, until) if until else due for due, until in rows), default=None)
    return None if upcoming is None else (upcoming - now).total_seconds()


def backoff_s(interval_s: float, failures: int) -> float:
    """Delay before the next try after ``failures`` consecutive failures: doubling, capped."""
    return min(interval_s * 2 ** max(0, failures), max(MAX_BACKOFF_S, interval_s))


def row_source(row: Any) -> WatchSource:
    return WatchSource(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        target=row["target"],
        fmt=row["fmt"],
        interval_s=row["interval_s"],
        options=dict(row["options"] or {}),
        robots_override=row["robots_override"],
        enabled=bool(row["enabled"]),
        last_run_at=row["last_run_at"],
        last_success_at=row["last_success_at"],
        last_error=row["last_error"],
        last_error_at=row["last_error_at"],
        consecutive_failures=row["consecutive_failures"],
        next_due_at=row["next_due_at"],
        items_total=row["items_total"],
        state=dict(row["state"] or {}),
        lease_owner=row["lease_owner"],
        lease_until=row["lease_until"],
        lease_generation=row["lease_generation"],
    )
