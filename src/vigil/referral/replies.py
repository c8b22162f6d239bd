"""Provider replies to a document: acknowledgement, Annex II (removal confirmed), Annex III (cannot comply,
with reasons; the one-hour clock stops and restarts when the obstacle ends), complaints and reinstatements.
Each lands in the case history and the audit log."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from vigil.core.model import utcnow
from vigil.errors import UsageError
from vigil.referral.case_history import record_in
from vigil.referral.tables import referral_documents, referral_replies
from vigil.store import Store
from vigil.workflow.audit import append_in

ANNEX_III_REASONS = ("force_majeure", "manifest_error", "insufficient_information")
REPLY_KINDS = ("acknowledgement", "annex_ii", "annex_iii", "obstacle_ended", "complaint", "reinstatement")
DEADLINE = timedelta(hours=1)


def record_reply(
    store: Store,
    document_id: int,
    kind: str,
    actor: str,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    if kind not in REPLY_KINDS:
        raise UsageError(f"unknown reply kind {kind!r} (one of {', '.join(REPLY_KINDS)})")
    data = dict(data or {})
    at = at or utcnow()
    if kind == "annex_iii":
        if data.get("reason") not in ANNEX_III_REASONS:
            raise UsageError(f"an Annex III reply needs a reason: one of {', '.join(ANNEX_III_REASONS)}")
        if not str(data.get("explanation") or "").strip():
            raise UsageError("an Annex III reply needs an explanation of the reasons")
    with store.write() as conn:
        doc = (
            conn.execute(select(referral_documents).where(referral_documents.c.id == document_id))
            .mappings()
            .first()
        )
        if doc is None:
            raise UsageError(f"document {document_id} does not exist")
        changes: dict[str, Any] = {}
        to_state: str | None = None
        if kind == "acknowledgement":
            to_state = "acknowledged"
        elif kind == "annex_ii":
            changes = {"status": "executed", "deadline_at": None}
            to_state = "acknowledged"
        elif kind == "annex_iii":
            changes = {"status": "impossible", "deadline_at": None}
        elif kind == "obstacle_ended":
            if doc["status"] != "impossible":
                raise UsageError(f"document {document_id} has no open Annex III obstacle")
            changes = {"status": "sent", "deadline_at": at + DEADLINE}
        elif kind == "reinstatement":
            changes = {"status": "reinstated"}
        if changes:
            conn.execute(
                referral_documents.update().where(referral_documents.c.id == document_id).values(**changes)
            )
        reply_id = conn.execute(
            referral_replies.insert()
            .values(document_id=document_id, kind=kind, at=at, recorded_by=actor, data=data)
            .returning(referral_replies.c.id)
        ).scalar_one()
        append_in(
            conn, actor, f"referral.reply.{kind}", "document", document_id, {"reply_id": reply_id, **data}
        )
        record_in(
            conn,
            doc["case_id"],
            to_state,
            actor,
            f"provider reply: {kind.replace('_', ' ')}",
            {"document_id": document_id, "reference": doc["reference"], **data},
            at=at,
        )
    return {"id": reply_id, "document_id": document_id, "kind": kind, "at": at.isoformat(), "data": data}


def replies_for(store: Store, document_id: int) -> list[dict[str, Any]]:
    with store.read() as conn:
        rows = conn.execute(
            select(referral_replies)
            .where(referral_replies.c.document_id == document_id)
            .order_by(referral_replies.c.id)
        ).mappings()
        return [dict(r) for r in rows]
