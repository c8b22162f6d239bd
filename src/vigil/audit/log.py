"""The audit log: append-only and hash-chained. Each entry holds the hash of the one before it, so that
an edit or a deletion anywhere breaks the chain from that entry on, and ``verify`` names it.

Appends are serialised: within a process by the store's write lock, across processes on PostgreSQL by
a transaction-scoped advisory lock (SQLite allows one writer at a time anyway).

What is hashed (``hash_version`` 2) is the RFC 8785 text (``vigil.audit.canonical``) of ``[2, prev_hash,
at, actor, action, target_type, target_id, details]``, and the details are kept as that text
(``details_jcs``), so verification reads back the very bytes that were hashed, on SQLite and PostgreSQL
alike. Entries from before (``hash_version`` NULL) were hashed over Python's JSON of the details kept in
the JSONB column and are verified that way: an existing chain stays verifiable.

The ids need not be consecutive: PostgreSQL spends a sequence number on an entry whose transaction rolls
back, so a gap is no sign of tampering. What shows a deleted entry is the next entry's link to the one
before it, and, for the last entries, the checkpoint.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, Connection, Index, Integer, String, Table, Text, select, text

from vigil.audit.canonical import canonical, plain, string
from vigil.core.model import utcnow
from vigil.store import Store
from vigil.store.schema import metadata
from vigil.store.types import JsonType, UTCDateTime

GENESIS = "0" * 64
#: The hash scheme of new entries (``entry_hash`` was version 1, before the column existed).
HASH_VERSION = 2
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
    #: 2: hashed over the JCS text, details kept in ``details_jcs``; NULL: the scheme of ``entry_hash``.
    Column("hash_version", Integer),
    Column("details_jcs", Text),
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


def details_of(row: Any) -> dict[str, Any]:
    """An entry's details as stored: parsed from the hashed text, or the JSONB of an older entry."""
    if row["details_jcs"] is not None:
        try:
            parsed = json.loads(row["details_jcs"])
        except ValueError:
            parsed = None
        # Only an edit of the table makes it anything but an object: show that, verification names it.
        return parsed if isinstance(parsed, dict) else {"unreadable": True}
    return dict(row["details"] or {})


def canonical_body(
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    target_type: str | None,
    target_id: str | None,
    details_jcs: str,
) -> str:
    """The text a version-2 hash covers: the JCS of ``[2, prev, at, actor, action, type, id, details]``,
    built around the details' own JCS text (which is how they are kept)."""
    head = canonical(
        [
            HASH_VERSION,
            prev_hash,
            at.isoformat(timespec="microseconds"),
            actor,
            action,
            target_type,
            target_id,
        ]
    )
    return head[:-1] + "," + details_jcs + "]"


def entry_hash(
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    target_type: str | None,
    target_id: str | None,
    details: dict[str, Any],
) -> str:
    """The version-1 hash (entries written before ``hash_version``): Python's JSON of the details."""
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
    """Append inside an open write transaction (so an action and its audit entry commit together).
    ``ValueError`` for details JSON cannot hold (NaN, infinities, unpaired surrogates)."""
    tid = None if target_id is None else str(target_id)
    details_jcs = canonical(plain(details or {}))  # refused before any lock is taken
    for field in (actor, action, target_type, tid):
        if field is not None:
            string(field)  # an unpaired surrogate cannot be hashed: refuse it here, clearly
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    prev = conn.execute(select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)).scalar() or GENESIS
    at = utcnow()
    body = canonical_body(prev, at, actor, action, target_type, tid, details_jcs)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    conn.execute(
        audit_log.insert().values(
            at=at,
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=tid,
            details=None,
            prev_hash=prev,
            hash=digest,
            hash_version=HASH_VERSION,
            details_jcs=details_jcs,
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
        return [_entry(r) for r in conn.execute(query).mappings()]


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        target_type=row["target_type"],
        target_id=row["target_id"],
        details=details_of(row),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def row_hash(row: Any, prev: str) -> str:
    """What ``row``'s hash must be, given the hash of the entry before it, by the row's own scheme."""
    if row["hash_version"] == HASH_VERSION:
        body = canonical_body(
            prev,
            row["at"],
            row["actor"],
            row["action"],
            row["target_type"],
            row["target_id"],
            row["details_jcs"],
        )
        return hashlib.sha256(body.encode("utf-8")).hexdigest()
    if row["hash_version"] is not None or row["details_jcs"] is not None:
        return ""  # an unknown scheme, or text added to an old entry: nothing verifies it
    return entry_hash(
        prev,
        row["at"],
        row["actor"],
        row["action"],
        row["target_type"],
        row["target_id"],
        row["details"] or {},
    )


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
    # Ids may skip (a rolled-back append spends one on PostgreSQL): each entry's link to the one before
    # it is what shows an entry removed from the middle; the checkpoint shows one removed from the end.
    last_id = after_id
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
            if r["prev_hash"] != prev:
                return VerifyResult(False, count, r["id"], "link to the previous entry does not match")
            try:
                digest = row_hash(r, prev)
            except ValueError:
                digest = ""
            if digest != r["hash"]:
                return VerifyResult(False, count, r["id"], "entry content does not match its hash")
            prev = r["hash"]
            count += 1
            last_id = r["id"]
