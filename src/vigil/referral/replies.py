"""Provider replies to a document: acknowledgement, Annex II (removal confirmed), Annex III (cannot comply,
with reasons; the one-hour clock stops and restarts when the obstacle ends), complaints and reinstatements.
The Annex forms are checked field by field (``annex_replies``). Each reply lands in the case history and
the audit log; an acknowledgement or an Annex II moves a ``sent`` case to ``acknowledged`` through the
workflow."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from vigil.core.model import CaseState, utcnow
from vigil.errors import UsageError
from vigil.referral import annex_replies
from vigil.referral.case_history import move_or_note, note_in
from vigil.referral.tables import referral_documents, referral_replies
from vigil.store import Store
from vigil.workflow import audit
from vigil.workflow.audit import append_in
from vigil.workflow.errors import Forbidden
from vigil.workflow.roles import Permission, can

ANNEX_III_REASONS = annex_replies.ANNEX_III_REASONS
REPLY_KINDS = ("acknowledgement", "annex_ii", "annex_iii", "obstacle_ended", "complaint", "reinstatement")
ORDER_ONLY = ("annex_ii", "annex_iii", "obstacle_ended")
DEADLINE = timedelta(hours=1)


def _document(conn: Connection, document_id: int) -> dict[str, Any]:
    doc = (
        conn.execute(select(referral_documents).where(referral_documents.c.id == document_id))
        .mappings()
        .first()
    )
    if doc is None:
        raise UsageError(f"document {document_id} does not exist")
    return dict(doc)


def _open_obstacle(conn: Connection, document_id: int) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(referral_replies)
            .where(referral_replies.c.document_id == document_id, referral_replies.c.kind == "annex_iii")
            .order_by(referral_replies.c.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def _checked(conn: Connection, doc: dict[str, Any], kind: str, data: dict[str, Any], at: datetime) -> Any:
    if doc["status"] == "draft":
        raise UsageError(f"document {doc['id']} has not been sent; there is nothing to reply to")
    if kind in ORDER_ONLY and doc["kind"] != "removal_order":
        raise UsageError(f"{kind} is a reply to a removal order; document {doc['id']} is a {doc['kind']}")
    if kind == "annex_ii":
        return annex_replies.annex_ii(data, doc, at)
    if kind == "annex_iii":
        return annex_replies.annex_iii(data, doc, at)
    if kind == "obstacle_ended":
        open_reply = _open_obstacle(conn, doc["id"])
        if doc["status"] != "impossible" or open_reply is None:
            raise UsageError(f"document {doc['id']} has no open Annex III obstacle")
        return annex_replies.obstacle_ended(data, open_reply)
    return data


def _changes(kind: str, at: datetime) -> dict[str, Any]:
    changes: dict[str, dict[str, Any]] = {
        "annex_ii": {"status": "executed", "deadline_at": None},
        "annex_iii": {"status": "impossible", "deadline_at": None},
        "obstacle_ended": {"status": "sent", "deadline_at": at + DEADLINE},
        "reinstatement": {"status": "reinstated"},
    }
    return changes.get(kind, {})


def record_reply(
    store: Store,
    document_id: int,
    kind: str,
    actor: str,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
    *,
    role: str,
) -> dict[str, Any]:
    if kind not in REPLY_KINDS:
        raise UsageError(f"unknown reply kind {kind!r} (one of {', '.join(REPLY_KINDS)})")
    if not can(role, Permission.WORK_CASES):
        audit.append(store, actor, "referral.reply_refused", "document", document_id, {"role": role})
        raise Forbidden(f"role {role!r} may not record replies")
    data = dict(annex_replies.check_size(data if data is not None else {}))
    at = at or utcnow()
    with store.write() as conn:
        doc = _document(conn, document_id)
        data = _checked(conn, doc, kind, data, at)
        changes = _changes(kind, at)
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
        reason = f"provider reply: {kind.replace('_', ' ')}"
        details = {"document_id": document_id, "reference": doc["reference"], "reply_id": reply_id, **data}
        if kind in ("acknowledgement", "annex_ii"):
            move_or_note(conn, doc["case_id"], CaseState.ACKNOWLEDGED, actor, role, reason, details, at)
        else:
            note_in(conn, doc["case_id"], actor, reason, details, at=at)
    return {"id": reply_id, "document_id": document_id, "kind": kind, "at": at.isoformat(), "data": data}


def replies_for(store: Store, document_id: int) -> list[dict[str, Any]]:
    with store.read() as conn:
        rows = conn.execute(
            select(referral_replies)
            .where(referral_replies.c.document_id == document_id)
            .order_by(referral_replies.c.id)
        ).mappings()
        return [dict(r) for r in rows]
