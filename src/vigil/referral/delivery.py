"""What every delivery channel shares: record the attempt; on success mark the document sent, start its
one-hour clock (removal orders), move the case to ``sent`` and start watching its URLs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from vigil.core.model import utcnow
from vigil.referral.case_history import record_in
from vigil.referral.tables import referral_deliveries, referral_documents
from vigil.referral.watch import watch_in
from vigil.store import Store
from vigil.workflow.audit import append_in


def record_delivery(
    store: Store,
    document: dict[str, Any],
    channel: str,
    target: str,
    ok: bool,
    attempts: int,
    actor: str,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> int:
    at = at or utcnow()
    details = details or {}
    with store.write() as conn:
        delivery_id = conn.execute(
            referral_deliveries.insert()
            .values(
                document_id=document["id"],
                channel=channel,
                target=target,
                at=at,
                ok=ok,
                attempts=attempts,
                details=details,
            )
            .returning(referral_deliveries.c.id)
        ).scalar_one()
        info = {
            "document_id": document["id"],
            "reference": document["reference"],
            "channel": channel,
            "target": target,
            "attempts": attempts,
            "ok": ok,
        }
        append_in(conn, actor, "referral.delivery", "document", document["id"], {**info, **details})
        if not ok:
            record_in(conn, document["case_id"], None, actor, f"delivery by {channel} failed", info, at=at)
            return int(delivery_id)
        current = conn.execute(
            select(referral_documents.c.status).where(referral_documents.c.id == document["id"])
        ).scalar()
        if current == "issued":
            deadline = at + timedelta(hours=1) if document["kind"] == "removal_order" else None
            conn.execute(
                referral_documents.update()
                .where(referral_documents.c.id == document["id"])
                .values(status="sent", received_at=at, deadline_at=deadline)
            )
        record_in(
            conn,
            document["case_id"],
            "sent",
            actor,
            f"{document['kind'].replace('_', ' ')} sent by {channel}",
            info,
            at=at,
        )
        for url in document["urls"]:
            watch_in(
                conn,
                document["case_id"],
                url,
                at,
                document["id"],
                document.get("provider") or "",
            )
    return int(delivery_id)
