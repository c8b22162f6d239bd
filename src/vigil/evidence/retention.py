"""Evidence retention: kept ``evidence_after_removal_days`` (183, six months, Art. 6 of Regulation
2021/784) from the content's removal, longer under a legal hold.

There is one retention job and one hold concept: ``vigil retention run`` deletes due evidence through
``EvidenceRetention`` (entry point ``vigil.retention``), and holds are ``vigil.privacy.holds`` legal
holds. A hold on a capture covers that capture; a hold on a case (or on its item, or on the account that
posted it) covers all of the case's captures. A blob still used by a capture that is not being deleted
stays on disk. Each deleted capture gets an ``evidence_deletions`` row and an ``evidence.delete`` audit
entry (custody); the retention job adds its own ``retention.delete`` entry per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, String, and_, cast, exists, func, not_, or_, select

from vigil.audit.log import append_in
from vigil.config import Config
from vigil.evidence.capture import blob_store
from vigil.evidence.tables import evidence_captures, evidence_deletions, evidence_parts
from vigil.privacy.holds import active_hold, case_held
from vigil.privacy.settings import RetentionPolicy
from vigil.store.schema import cases

REASON = "retention period ended"


def mark_removed_in(conn: Connection, config: Config, case_id: int, removed_at: datetime) -> int:
    """Start the retention clock for a case's captures (content removed at ``removed_at``).
    ``retain_until`` records the date under the policy in force at removal."""
    days = RetentionPolicy.from_config(config).evidence_after_removal_days
    result = conn.execute(
        evidence_captures.update()
        .where(evidence_captures.c.case_id == case_id, evidence_captures.c.removed_at.is_(None))
        .values(removed_at=removed_at, retain_until=removed_at + timedelta(days=days))
    )
    return int(result.rowcount or 0)


def capture_held() -> ColumnElement[bool]:
    """True for an ``evidence_captures`` row under a legal hold: on itself or on its case (or the case's
    item or account)."""
    case_side = exists().where(cases.c.id == evidence_captures.c.case_id, case_held())
    return or_(active_hold("capture", cast(evidence_captures.c.id, String)), case_side)


class EvidenceRetention:
    """The evidence data class for ``vigil.privacy.retention.run_retention``. A capture is due once the
    policy's period has passed since removal (measured at run time, so a shorter policy applies to
    evidence already collected)."""

    data_class = "evidence"

    def __init__(self, config: Config) -> None:
        self.config = config
        self._pending_blobs: list[str] = []

    @staticmethod
    def retention_days(policy: RetentionPolicy) -> int:
        return policy.evidence_after_removal_days

    def _aged(self, now: datetime, policy: RetentionPolicy) -> ColumnElement[bool]:
        cutoff = now - timedelta(days=policy.evidence_after_removal_days)
        return and_(
            evidence_captures.c.deleted_at.is_(None),
            evidence_captures.c.removed_at.is_not(None),
            evidence_captures.c.removed_at <= cutoff,
        )

    def due(
        self, conn: Connection, now: datetime, policy: RetentionPolicy, limit: int, after: str | None = None
    ) -> list[str]:
        query = select(evidence_captures.c.id).where(self._aged(now, policy), not_(capture_held()))
        if after is not None:
            query = query.where(evidence_captures.c.id > int(after))
        found = conn.execute(query.order_by(evidence_captures.c.id).limit(limit)).scalars()
        return [str(i) for i in found]

    def held(self, conn: Connection, now: datetime, policy: RetentionPolicy) -> int:
        query = (
            select(func.count()).select_from(evidence_captures).where(self._aged(now, policy), capture_held())
        )
        return int(conn.execute(query).scalar_one())

    def count(self, conn: Connection) -> int:
        query = select(func.count()).select_from(evidence_captures)
        return int(conn.execute(query.where(evidence_captures.c.deleted_at.is_(None))).scalar_one())

    def delete(self, conn: Connection, ids: Sequence[str], now: datetime, actor: str) -> int:
        """Mark the captures deleted, record which blobs go (those no live capture still uses); the files
        themselves go in ``cleanup``, once this transaction has committed."""
        capture_ids = [int(i) for i in ids]
        parts = conn.execute(
            select(evidence_parts.c.capture_id, evidence_parts.c.sha256).where(
                evidence_parts.c.capture_id.in_(capture_ids)
            )
        ).all()
        gone = conn.execute(
            evidence_captures.update()
            .where(evidence_captures.c.id.in_(capture_ids), evidence_captures.c.deleted_at.is_(None))
            .values(deleted_at=now)
        ).rowcount
        live = set(
            conn.execute(
                select(evidence_parts.c.sha256)
                .join(evidence_captures, evidence_captures.c.id == evidence_parts.c.capture_id)
                .where(
                    evidence_parts.c.sha256.in_({sha for _, sha in parts}),
                    evidence_captures.c.deleted_at.is_(None),
                )
            ).scalars()
        )
        taken: set[str] = set()
        for capture_id in capture_ids:
            removable = sorted({sha for c, sha in parts if c == capture_id} - live - taken)
            taken.update(removable)
            conn.execute(
                evidence_deletions.insert().values(
                    capture_id=capture_id, at=now, actor=actor, blobs=removable, reason=REASON
                )
            )
            append_in(
                conn,
                actor,
                "evidence.delete",
                "evidence",
                capture_id,
                {"blobs": removable, "reason": REASON, "now": now.isoformat()},
            )
        self._pending_blobs.extend(sorted(taken))
        return int(gone or 0)

    def cleanup(self, ids: Sequence[str]) -> int:
        """Remove the blob files of the batch just committed; how many went."""
        blobs = blob_store(self.config)
        pending, self._pending_blobs = self._pending_blobs, []
        return sum(1 for sha in pending if blobs.delete(sha))
