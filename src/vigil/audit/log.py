"""The audit log: append-only and hash-chained. Each entry holds the hash of the one before it, so that
an edit or a deletion anywhere breaks the chain from that entry on, and ``verify`` names it.

Appends are serialised: within a process by the store's write lock, across processes on PostgreSQL by
a transaction-scoped advisory lock (SQLite allows one writer at a time anyway).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, Connection, Index, Integer, String, Table, select, text

from vigil.core.model import utcnow
from vigil.store import Store
from vigil.store.schema import metadata
from vigil.store.types import JsonType, UTCDateTime

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x76696769  # "vigi"

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target_type", String(64)),
    Column("target_id", String(256)),
    Column("details", JsonType),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_target", "target_type", "target_id"),
)

#: Where a verification found the chain intact (migration audit_0001_checkpoints).
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entry_id", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("entries", Integer, nullable=False),
    #: Whether this verification started from the genesis entry (else from an earlier checkpoint).
    Column("full", Boolean, nullable=False),
    Column("verified_at", UTCDateTime, nullable=False),
)


@dataclass(slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    target_type: str | None
    target_id: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(slots=True)
class VerifyResult:
    ok: bool
    entries: int
    first_broken: int | None = None
    reason: str = ""
    #: The entry an incremental verification started after (None: it recomputed from the first entry).
    since_entry: int | None = None
    #: When the chain up to ``since_entry`` was verified.
    since_at: datetime | None = None
    #: The last entry verified.
    last_id: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "first_broken": self.first_broken,
            "reason": self.reason,
        }


def entry_hash(
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    target_type: str | None,
    target_id: str | None,
    details: dict[str, Any],
) -> str:
    body = json.dumps(
        [prev_hash, at.isoformat(timespec="microseconds"), actor, action, target_type, target_id, details],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append_in(
    conn: Connection,
    actor: str,
    action: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    details: dict[str, Any] | None = None,
) -> str:
    """Append inside an open write transaction (so an action and its audit entry commit together)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    prev = conn.execute(select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)).scalar() or GENESIS
    at = utcnow()
    # Round-trip the details through JSON so that what is hashed is exactly what is stored.
    clean = json.loads(json.dumps(details or {}, default=str))
    tid = None if target_id is None else str(target_id)
    digest = entry_hash(prev, at, actor, action, target_type, tid, clean)
    conn.execute(
        audit_log.insert().values(
            at=at,
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=tid,
            details=clean,
            prev_hash=prev,
            hash=digest,
        )
    )
    return digest


def append(
    store: Store,
    actor: str,
    action: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    details: dict[str, Any] | None = None,
) -> str:
    """Append one entry in its own transaction; returns its hash."""
    with store.write() as conn:
        return append_in(conn, actor, action, target_type, target_id, details)


def entries(
    store: Store,
    limit: int = 100,
    offset: int = 0,
    target_type: str | None = None,
    target_id: str | None = None,
) -> list[AuditEntry]:
    query = select(audit_log)
    if target_type:
        query = query.where(audit_log.c.target_type == target_type)
    if target_id is not None:
        query = query.where(audit_log.c.target_id == str(target_id))
    query = query.order_by(audit_log.c.id.desc()).limit(limit).offset(offset)
    with store.read() as conn:
        return [AuditEntry(**dict(r)) for r in conn.execute(query).mappings()]


def verify(store: Store, batch: int = 5000) -> VerifyResult:
    """Recompute the chain from the start; report the first entry whose hash or link does not hold. An
    intact chain is recorded as a checkpoint (what ``verify_since_checkpoint`` starts from)."""
    result = _verify_from(store, 0, GENESIS, 0, batch)
    if result.ok:
        _checkpoint(store, result, full=True)
    return result


def verify_since_checkpoint(store: Store, batch: int = 5000) -> VerifyResult:
    """Verify only the entries after the last checkpoint, and that the checkpointed entry still holds the
    hash it had: the cost follows the entries added since, not the length of the log. What lies before the
    checkpoint was verified when the checkpoint was made; ``verify`` recomputes everything."""
    with store.read() as conn:
        mark = (
            conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.id.desc()).limit(1))
            .mappings()
            .first()
        )
        held = (
            None
            if mark is None
            else conn.execute(select(audit_log.c.hash).where(audit_log.c.id == mark["entry_id"])).scalar()
        )
    if mark is None:
        return verify(store, batch)
    if held != mark["hash"]:
        why = "missing" if held is None else "changed since it was verified"
        return VerifyResult(False, mark["entries"], mark["entry_id"], f"entry {mark['entry_id']} is {why}")
    result = _verify_from(store, mark["entry_id"], mark["hash"], mark["entries"], batch)
    result.since_entry, result.since_at = mark["entry_id"], mark["verified_at"]
    if result.ok and result.entries > mark["entries"]:
        _checkpoint(store, result, full=False)
    return result


def _checkpoint(store: Store, result: VerifyResult, full: bool) -> None:
    with store.write() as conn:
        last = conn.execute(
            select(audit_log.c.id, audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)
        ).first()
        if last is None:
            return
        # Only a chain verified up to the entry that is last now is recorded; an append that came in
        # between is verified next time.
        if last[0] != result.last_id:
            return
        conn.execute(
            audit_checkpoints.insert().values(
                entry_id=last[0], hash=last[1], entries=result.entries, full=full, verified_at=utcnow()
            )
        )


def _verify_from(store: Store, after_id: int, prev: str, count: int, batch: int) -> VerifyResult:
    last_id = after_id
    expected_id = after_id + 1 if after_id else None
    while True:
        with store.read() as conn:
            rows = list(
                conn.execute(
                    select(audit_log).where(audit_log.c.id > last_id).order_by(audit_log.c.id).limit(batch)
                ).mappings()
            )
        if not rows:
            done = VerifyResult(True, count)
            done.last_id = last_id
            return done
        for r in rows:
            if expected_id is not None and r["id"] != expected_id:
                return VerifyResult(False, count, expected_id, f"entry {expected_id} is missing")
            if r["prev_hash"] != prev:
                return VerifyResult(False, count, r["id"], "link to the previous entry does not match")
            digest = entry_hash(
                prev, r["at"], r["actor"], r["action"], r["target_type"], r["target_id"], r["details"] or {}
            )
            if digest != r["hash"]:
                return VerifyResult(False, count, r["id"], "entry content does not match its hash")
            prev = r["hash"]
            count += 1
            expected_id = r["id"] + 1
            last_id = r["id"]
