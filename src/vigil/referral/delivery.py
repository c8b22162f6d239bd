"""What every delivery channel shares. Before anything goes out, ``clear_to_send`` (``review``) checks that
a second person approved the document's round and that the do-not-refer gate lets it through; a refusal is
audited and nothing is sent. After the attempt, ``record_delivery`` records it; on success it marks the
document sent, starts its one-hour clock (removal orders), moves the case to ``sent`` through the workflow
and starts watching its URLs. What was sent is always recorded, even if the case moved meanwhile."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from vigil.audit.history import note_in
from vigil.audit.log import append_in
from vigil.core.model import CaseState, utcnow
from vigil.referral.review import clear_to_send
from vigil.referral.tables import referral_deliveries, referral_documents
from vigil.referral.watched_urls import watch_in
from vigil.store import Store
from vigil.store.schema import cases
from vigil.workflow.moves import move_in
from vigil.workflow.states import TRANSITIONS

__all__ = ["clear_to_send", "record_delivery"]


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
    *,
    role: str,
) -> int:
    at = at or utcnow()
    details = details or {}
    info = {
        "document_id": document["id"],
        "reference": document["reference"],
        "channel": channel,
        "target": target,
        "attempts": attempts,
        "ok": ok,
    }
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
        append_in(conn, actor, "referral.delivery", "document", document["id"], {**info, **details})
        if not ok:
            note_in(conn, document["case_id"], actor, f"delivery by {channel} failed", info, at=at)
            return int(delivery_id)
        current = conn.execute(
            select(referral_documents.c.status).where(referral_documents.c.id == document["id"])
        ).scalar()
        if current == "draft":
            deadline = at + timedelta(hours=1) if document["kind"] == "removal_order" else None
            conn.execute(
                referral_documents.update()
                .where(referral_documents.c.id == document["id"])
                .values(status="sent", received_at=at, deadline_at=deadline)
            )
        state = conn.execute(select(cases.c.state).where(cases.c.id == document["case_id"])).scalar()
        reason = f"{document['kind'].replace('_', ' ')} sent by {channel}"
        if state == CaseState.APPROVED and role in TRANSITIONS[(CaseState.APPROVED, CaseState.SENT)]:
            move_in(conn, document["case_id"], "sent", actor, role, reason, info)
        else:
            note_in(conn, document["case_id"], actor, f"{reason} (case {state})", info, at=at)
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
