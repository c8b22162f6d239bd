"""Leases: several ``vigil watch serve`` processes (on one machine or many) share the sources in one store,
and never run the same source at once.

A process claims a due source with one conditional UPDATE (the database decides between two claimants:
SQLite's single writer, PostgreSQL's row lock) and holds the lease for ``lease_s`` seconds, renewed while
the run lasts. Finishing the run releases the lease in the same transaction that records the outcome and
moves the schedule on, so a process that saw the source due a moment earlier cannot claim it again. A
process that dies keeps its lease only until it expires; one that stops gracefully releases what it
holds. Lease times come from each process's clock: keep ``lease_s`` well above the clocks' skew.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from vigil.core.model import utcnow
from vigil.store import Store
from vigil.watch.registry import WatchSource, row_source
from vigil.watch.tables import watch_sources

log = logging.getLogger(__name__)

DEFAULT_LEASE_S = 60.0
MIN_LEASE_S = 1.0


def new_owner() -> str:
    """This process's name on its leases: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim(
    store: Store, source_id: int, owner: str, lease_s: float, now: datetime | None = None
) -> WatchSource | None:
    """Take the lease on a source if it is enabled, due, and free (or its lease expired); the source as
    it is now, or None when another process has it or it is no longer due."""
    now = now or utcnow()
    c = watch_sources.c
    with store.write() as conn:
        taken = conn.execute(
            update(watch_sources)
            .where(
                c.id == source_id,
                c.enabled.is_(True),
                c.next_due_at <= now,
                or_(c.lease_owner.is_(None), c.lease_until < now),
            )
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_s))
        ).rowcount
        if taken != 1:
            return None
        row = conn.execute(select(watch_sources).where(c.id == source_id)).mappings().one()
    return row_source(row)


def renew(store: Store, source_id: int, owner: str, lease_s: float) -> bool:
    """Extend a lease this process holds; False when it lost it (it expired and another took it)."""
    c = watch_sources.c
    with store.write() as conn:
        done = conn.execute(
            update(watch_sources)
            .where(c.id == source_id, c.lease_owner == owner)
            .values(lease_until=utcnow() + timedelta(seconds=lease_s))
        ).rowcount
    return done == 1


def release_all(store: Store, owner: str) -> int:
    """Give back every lease this process holds (graceful shutdown); how many there were."""
    c = watch_sources.c
    with store.write() as conn:
        return int(
            conn.execute(
                update(watch_sources).where(c.lease_owner == owner).values(lease_owner=None, lease_until=None)
            ).rowcount
        )


@contextmanager
def kept_alive(store: Store, source_id: int, owner: str, lease_s: float) -> Iterator[threading.Event]:
    """Renew the lease every third of its length while the block runs. The event yielded is set if the
    lease was lost (a stall longer than the lease: another process may now run the source)."""
    done = threading.Event()
    lost = threading.Event()

    def beat() -> None:
        while not done.wait(lease_s / 3):
            try:
                if not renew(store, source_id, owner, lease_s):
                    lost.set()
                    log.warning("lease on watched source %s lost by %s", source_id, owner)
                    return
            except Exception:  # a database hiccup: try again at the next beat
                log.exception("renewing the lease on watched source %s failed", source_id)

    thread = threading.Thread(target=beat, name=f"lease-{source_id}", daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        done.set()
        thread.join()
