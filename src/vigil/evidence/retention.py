"""Retention: evidence is kept six months from removal by default (Art. 6 of Regulation 2021/784), longer
under a legal hold; ``purge_due`` deletes what is due, and records that it did.

A hold on a case covers all of its captures; a hold on a capture covers that capture. A blob still used
by a capture that is not being deleted stays on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from vigil.config import Config
from vigil.core.model import utcnow
from vigil.errors import UsageError
from vigil.evidence.capture import blob_store
from vigil.evidence.tables import evidence_captures, evidence_deletions, evidence_holds, evidence_parts
from vigil.store import Store
from vigil.workflow.audit import append_in

DEFAULT_RETENTION_DAYS = 183  # six months


def retention_days(config: Config) -> int:
    return int(config.extra.get("evidence_retention_days", DEFAULT_RETENTION_DAYS))


def mark_removed_in(conn: Connection, config: Config, case_id: int, removed_at: datetime) -> int:
    """Start the retention clock for a case's captures (content removed at ``removed_at``)."""
    until = removed_at + timedelta(days=retention_days(config))
    result = conn.execute(
        evidence_captures.update()
        .where(evidence_captures.c.case_id == case_id, evidence_captures.c.removed_at.is_(None))
        .values(removed_at=removed_at, retain_until=until)
    )
    return int(result.rowcount or 0)


def place_hold(
    store: Store, actor: str, reason: str, case_id: int | None = None, capture_id: int | None = None
) -> int:
    if (case_id is None) == (capture_id is None):
        raise UsageError("a legal hold is on a case or on a capture (exactly one)")
    if not reason.strip():
        raise UsageError("a legal hold needs a reason")
    with store.write() as conn:
        hold_id = conn.execute(
            evidence_holds.insert()
            .values(
                case_id=case_id, capture_id=capture_id, reason=reason, placed_by=actor, placed_at=utcnow()
            )
            .returning(evidence_holds.c.id)
        ).scalar_one()
        append_in(
            conn,
            actor,
            "evidence.hold",
            "hold",
            hold_id,
            {"case_id": case_id, "capture_id": capture_id, "reason": reason},
        )
    return int(hold_id)


def release_hold(store: Store, hold_id: int, actor: str) -> None:
    with store.write() as conn:
        done = conn.execute(
            evidence_holds.update()
            .where(evidence_holds.c.id == hold_id, evidence_holds.c.released_at.is_(None))
            .values(released_at=utcnow(), released_by=actor)
        )
        if not done.rowcount:
            raise UsageError(f"no active legal hold {hold_id}")
        append_in(conn, actor, "evidence.hold_release", "hold", hold_id, {})


@dataclass(slots=True)
class PurgeSummary:
    deleted: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    blobs_removed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"deleted": self.deleted, "held": self.held, "blobs_removed": self.blobs_removed}


def purge_due(
    store: Store, config: Config, now: datetime | None = None, actor: str = "retention"
) -> PurgeSummary:
    now = now or utcnow()
    summary = PurgeSummary()
    active = evidence_holds.c.released_at.is_(None)
    with store.read() as conn:
        due = conn.execute(
            select(evidence_captures.c.id, evidence_captures.c.case_id).where(
                evidence_captures.c.deleted_at.is_(None),
                evidence_captures.c.retain_until.is_not(None),
                evidence_captures.c.retain_until <= now,
            )
        ).all()
        held_captures = set(
            conn.execute(
                select(evidence_holds.c.capture_id).where(active, evidence_holds.c.capture_id.is_not(None))
            )
            .scalars()
            .all()
        )
        held_cases = set(
            conn.execute(
                select(evidence_holds.c.case_id).where(active, evidence_holds.c.case_id.is_not(None))
            )
            .scalars()
            .all()
        )
    blobs = blob_store(config)
    for capture_id, case_id in due:
        if capture_id in held_captures or (case_id is not None and case_id in held_cases):
            summary.held.append(capture_id)
            continue
        with store.write() as conn:
            mine = set(
                conn.execute(select(evidence_parts.c.sha256).where(evidence_parts.c.capture_id == capture_id))
                .scalars()
                .all()
            )
            still_used = set(
                conn.execute(
                    select(evidence_parts.c.sha256)
                    .join(evidence_captures, evidence_captures.c.id == evidence_parts.c.capture_id)
                    .where(
                        evidence_parts.c.sha256.in_(mine),
                        evidence_captures.c.id != capture_id,
                        evidence_captures.c.deleted_at.is_(None),
                    )
                )
                .scalars()
                .all()
            )
            removable = sorted(mine - still_used)
            conn.execute(
                evidence_captures.update().where(evidence_captures.c.id == capture_id).values(deleted_at=now)
            )
            conn.execute(
                evidence_deletions.insert().values(
                    capture_id=capture_id,
                    at=now,
                    actor=actor,
                    blobs=removable,
                    reason="retention period ended",
                )
            )
            append_in(
                conn,
                actor,
                "evidence.delete",
                "evidence",
                capture_id,
                {"blobs": removable, "reason": "retention period ended", "now": now.isoformat()},
            )
        summary.blobs_removed += sum(1 for sha in removable if blobs.delete(sha))
        summary.deleted.append(capture_id)
    return summary


def holds(store: Store, include_released: bool = False) -> list[dict[str, Any]]:
    query = select(evidence_holds).order_by(evidence_holds.c.id)
    if not include_released:
        query = query.where(evidence_holds.c.released_at.is_(None))
    with store.read() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
