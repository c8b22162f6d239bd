"""Leases: several ``vigil watch serve`` processes (on one machine or many) share the sources in one store,
and never run the same source at once.

A process claims a due source with one conditional UPDATE (the database decides between two claimants:
SQLite's single writer, PostgreSQL's row lock) and holds the lease for ``lease_s`` seconds, renewed while
the run lasts. Every time in that decision is the database's (``vigil.store.clock``): whether the source
is due, whether a lease has expired, and until when a taken or renewed lease holds, so processes whose
clocks disagree still agree on who holds a lease. Each take moves the source's ``lease_generation`` on;
renewing the lease, each batch the run writes (``LeaseFence``) and the run's outcome are accepted only
with the generation taken and while the lease is live, so a holder that stalled past its lease stops
instead of working beside the process that took the source over. Finishing the run releases the lease
in the same transaction that records the outcome and moves the schedule on, so a process that saw the
source due a moment earlier cannot claim it again. A process that dies keeps its lease only until it
expires; one that stops gracefully releases what it holds.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import ColumnElement, or_, select, update

from vigil.errors import VigilError
from vigil.store import Store
from vigil.store.clock import db_later, db_now
from vigil.watch.registry import WatchSource, row_source
from vigil.watch.tables import watch_sources

log = logging.getLogger(__name__)

DEFAULT_LEASE_S = 60.0
MIN_LEASE_S = 1.0


def new_owner() -> str:
    """This process's name on its leases: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseLost(VigilError):
    """The lease on a watched source ended before its run did; the run stops."""


def claim(store: Store, source_id: int, owner: str, lease_s: float) -> WatchSource | None:
    """Take the lease on a source if it is enabled, due, and free (or its lease expired), all by the
    database's clock; the source as it is now (with the generation this take gave the lease), or None
    when another process has it or it is no longer due."""
    c = watch_sources.c
    with store.write() as conn:
        taken = conn.execute(
            update(watch_sources)
            .where(
                c.id == source_id,
                c.enabled.is_(True),
                c.next_due_at <= db_now(),
                or_(c.lease_owner.is_(None), c.lease_until < db_now()),
            )
            .values(
                lease_owner=owner,
                lease_until=db_later(lease_s),
                lease_generation=c.lease_generation + 1,
            )
        ).rowcount
        if taken != 1:
            return None
        row = conn.execute(select(watch_sources).where(c.id == source_id)).mappings().one()
    return row_source(row)


def held(source_id: int, owner: str, generation: int) -> list[ColumnElement[bool]]:
    """The condition for "``owner`` still holds the lease it took as ``generation``, and it is live"."""
    c = watch_sources.c
    return [
        c.id == source_id,
        c.lease_owner == owner,
        c.lease_generation == generation,
        c.lease_until >= db_now(),
    ]


def renew(store: Store, source_id: int, owner: str, lease_s: float, generation: int) -> bool:
    """Extend a live lease this process holds; False when it expired (by the database's clock) or was
    taken over: the holder must stop."""
    with store.write() as conn:
        done = conn.execute(
            update(watch_sources)
            .where(*held(source_id, owner, generation))
            .values(lease_until=db_later(lease_s))
        ).rowcount
    return done == 1


def holds(store: Store, source_id: int, owner: str, generation: int) -> bool:
    """Whether the lease is still this holder's and live."""
    with store.read() as conn:
        found = conn.execute(select(watch_sources.c.id).where(*held(source_id, owner, generation))).first()
    return found is not None


def release_all(store: Store, owner: str) -> int:
    """Give back every lease this process holds (graceful shutdown); how many there were."""
    c = watch_sources.c
    with store.write() as conn:
        return int(
            conn.execute(
                update(watch_sources).where(c.lease_owner == owner).values(lease_owner=None, lease_until=None)
            ).rowcount
        )


class LeaseFence:
    """Stops a run whose lease is gone: ``check()`` raises ``LeaseLost`` once the keep-alive thread saw a
    renewal refused, or could not renew for a whole lease (the database unreachable: the lease may have
    expired meanwhile), or the database says the lease is no longer this holder's and live."""

    def __init__(self, store: Store, source_id: int, owner: str, generation: int) -> None:
        self.store = store
        self.source_id = source_id
        self.owner = owner
        self.generation = generation
        self.lost = threading.Event()

    def check(self) -> None:
        if not self.lost.is_set() and not holds(self.store, self.source_id, self.owner, self.generation):
            self.lost.set()
        if self.lost.is_set():
            raise LeaseLost(f"the lease on watched source {self.source_id} was lost; the run stops")


@contextmanager
def kept_alive(store: Store, source: WatchSource, owner: str, lease_s: float) -> Iterator[LeaseFence]:
    """Renew the lease every third of its length while the block runs; the fence yielded trips when the
    lease is lost (a stall longer than the lease: another process may now run the source)."""
    fence = LeaseFence(store, source.id, owner, source.lease_generation)
    done = threading.Event()

    def beat() -> None:
        last_ok = time.monotonic()
        while not done.wait(lease_s / 3):
            try:
                if renew(store, source.id, owner, lease_s, source.lease_generation):
                    last_ok = time.monotonic()
                    continue
                log.warning("lease on watched source %s lost by %s", source.id, owner)
                fence.lost.set()
                return
            except Exception:  # a database hiccup: try again at the next beat, while the lease may hold
                log.exception("renewing the lease on watched source %s failed", source.id)
                if time.monotonic() - last_ok >= lease_s:
                    fence.lost.set()
                    return

    thread = threading.Thread(target=beat, name=f"lease-{source.id}", daemon=True)
    thread.start()
    try:
        yield fence
    finally:
        done.set()
        thread.join()
