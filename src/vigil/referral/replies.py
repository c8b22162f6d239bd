"""Provider replies to a document: acknowledgement, Annex II (removal confirmed), Annex III (cannot comply,
with reasons; the one-hour clock stops and restarts when the obstacle ends), complaints and reinstatements.
The Annex forms are checked field by field (``annex_replies``). Each reply lands in the case history and
the audit log; an acknowledgement or an Annex II moves a ``sent`` case to ``acknowledged`` through the
workflow. An Annex II also makes the re-check of the order's URLs that are not yet seen removed due at once
(the provider's word is checked, not taken), and its ``measure_at`` gives the time to removal the provider
reports (``reported_seconds``), shown next to the one the re-checks measure.

A reply the document cannot take (not sent, an Annex form for something other than a removal order, no
open obstacle) is a ``ReplyConflict`` (409); an unknown document is ``NoDocument`` (404); a field the
form cannot use is a ``UsageError`` naming it (the API answers 400, the case page's form 422)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from vigil.audit import log as audit
from vigil.audit.history import note_in
from vigil.audit.log import append_in
from vigil.core.model import CaseState, utcnow
from vigil.errors import UsageError
from vigil.referral import annex_replies
from vigil.referral.tables import referral_documents, referral_replies
from vigil.referral.watched_urls import recheck_due_in
from vigil.store import Store
from vigil.workflow.errors import Forbidden, InvalidTransition, NotFound
from vigil.workflow.moves import move_or_note
from vigil.workflow.roles import Permission, can

ANNEX_III_REASONS = annex_replies.ANNEX_III_REASONS
REPLY_KINDS = ("acknowledgement", "annex_ii", "annex_iii", "obstacle_ended", "complaint", "reinstatement")
ORDER_ONLY = ("annex_ii", "annex_iii", "obstacle_ended")
DEADLINE = timedelta(hours=1)
LABELS = {
    "acknowledgement": "Acknowledgement of receipt",
    "annex_ii": "Annex II: removed or disabled (Art. 3(6))",
    "annex_iii": "Annex III: cannot comply (Art. 3(7)/(8))",
    "obstacle_ended": "Obstacle ended: the one-hour clock restarts",
    "complaint": "Complaint",
    "reinstatement": "Reinstatement",
}
REASON_LABELS = {
    "force_majeure": "Art. 3(7): force majeure or de facto impossibility not attributable to the provider",
    "manifest_error": "Art. 3(8): the order contains manifest errors",
    "insufficient_information": "Art. 3(8): the order does not contain sufficient information",
}


class ReplyConflict(InvalidTransition, UsageError):
    """The document cannot take this reply now (409); still a ``UsageError`` for the CLI."""


class NoDocument(NotFound, UsageError):
    """No such document (404)."""


def kinds_for(document_kind: str) -> list[str]:
    """The replies a document of this kind can take: the Annex forms answer removal orders only."""
    return [k for k in REPLY_KINDS if document_kind == "removal_order" or k not in ORDER_ONLY]


def form_choices() -> dict[str, Any]:
    """What a form recording replies offers: the kinds (and which answer removal orders only), the Annex
    III reasons with their Article, the Annex II measures."""
    return {
        "kinds": LABELS,
        "order_only": ORDER_ONLY,
        "reasons": REASON_LABELS,
        "measures": annex_replies.MEASURES,
    }


def reported_seconds(document: dict[str, Any], reply: dict[str, Any]) -> float | None:
    """Seconds from the order's delivery to the removal the provider's Annex II reports (0 if it says
    before); None for any other reply or an order not delivered."""
    data = reply.get("data") or {}
    sent, done = document.get("received_at"), data.get("measure_at")
    if reply.get("kind") != "annex_ii" or not sent or not done:
        return None
    try:
        start = sent if isinstance(sent, datetime) else datetime.fromisoformat(str(sent))
        end = datetime.fromisoformat(str(done))
    except ValueError:
        return None
    start, end = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (start, end))
    return max(0.0, (end - start).total_seconds())


def _document(conn: Connection, document_id: int) -> dict[str, Any]:
    doc = (
        conn.execute(select(referral_documents).where(referral_documents.c.id == document_id))
        .mappings()
        .first()
    )
    if doc is None:
        raise NoDocument(f"document {document_id} does not exist")
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
        raise ReplyConflict(f"document {doc['id']} has not been sent; there is nothing to reply to")
    if kind not in kinds_for(doc["kind"]):
        raise ReplyConflict(f"{kind} is a reply to a removal order; document {doc['id']} is a {doc['kind']}")
    if kind == "annex_ii":
        return annex_replies.annex_ii(data, doc, at)
    if kind == "annex_iii":
        return annex_replies.annex_iii(data, doc, at)
    if kind == "obstacle_ended":
        open_reply = _open_obstacle(conn, doc["id"])
        if doc["status"] != "impossible" or open_reply is None:
            raise ReplyConflict(f"document {doc['id']} has no open Annex III obstacle")
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
        due = recheck_due_in(conn, document_id, at) if kind == "annex_ii" else 0
        extra = {"rechecks_due": due} if due else {}
        append_in(
            conn,
            actor,
            f"referral.reply.{kind}",
            "document",
            document_id,
            {"reply_id": reply_id, **data, **extra},
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
