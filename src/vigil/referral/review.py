"""When a document may be drafted and when it may be sent: the review the workflow asks for.

- **Drafting** needs a decided case (``decision``, the decision matching the document) or one already
  ``proposed``. The first draft proposes the case (``decision -> proposed``): the proposal is the document.
- **Sending** needs the case ``approved`` in the same round (after its last move into ``decision``), by
  someone other than the document's author (the workflow already keeps the proposer from approving), or
  already sent in that round (a further copy). The first delivery moves the case to ``sent``.
- Both pass the workflow's checks (``vigil.transition_checks``, the do-not-refer gate among them) as a
  move to ``proposed`` or ``sent``, and the gate here also sees the URLs the documents name and the
  case's evidence hashes. Every refusal is audited.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from vigil.audit import log as audit
from vigil.core.model import CaseState as S
from vigil.errors import UsageError
from vigil.evidence.tables import evidence_captures, evidence_parts
from vigil.privacy.deconfliction import DeconflictionBlocked, DeconflictionGate, Facets
from vigil.privacy.identities import IdentityGuard
from vigil.privacy.settings import PrivacySettings
from vigil.privacy.urls import normalise_url
from vigil.referral.tables import referral_documents
from vigil.store import Store
from vigil.store.schema import case_events
from vigil.workflow.errors import Forbidden, InvalidTransition, WorkflowError
from vigil.workflow.states import TRANSITIONS, Decision
from vigil.workflow.transition import Check, TransitionRequest, preflight, registered_checks

DOCUMENT_FOR: dict[str, Decision] = {
    "removal_order": Decision.REMOVAL_ORDER,
    "voluntary_referral": Decision.REFER,
    "dsa_notice": Decision.NOTICE,
}
SENT_IN_ROUND = (S.SENT, S.ACKNOWLEDGED)


@dataclass(slots=True)
class Round:
    """The case's current review round: from its last move into ``decision`` on."""

    start_event: int = 0
    approved_by: str | None = None
    documents: set[int] = field(default_factory=set)


def current_round(conn: Connection, case_id: int) -> Round:
    rows = conn.execute(
        select(
            case_events.c.id,
            case_events.c.from_state,
            case_events.c.to_state,
            case_events.c.actor,
            case_events.c.meta,
        )
        .where(case_events.c.case_id == case_id)
        .order_by(case_events.c.id)
    ).all()
    found = Round()
    for event_id, frm, to, actor, meta in rows:
        if to == S.DECISION and frm != S.DECISION:
            found = Round(start_event=int(event_id))
        elif frm == S.PROPOSED and to == S.APPROVED:
            found.approved_by = str(actor)
        document = (meta or {}).get("drafted_document")
        if isinstance(document, int):
            found.documents.add(document)
    return found


def document_facets(urls: Iterable[str] = ()) -> Any:
    """A do-not-refer facet provider: the URLs the case's documents name (and ``urls``, not stored yet)
    and the SHA-256 of every part of the case's evidence captures."""
    extra = list(urls)

    def provide(conn: Connection, case_id: int, facets: Facets) -> None:
        named = [
            u
            for row in conn.execute(
                select(referral_documents.c.urls).where(referral_documents.c.case_id == case_id)
            ).scalars()
            for u in (row or [])
        ]
        for url in [*named, *extra]:
            with contextlib.suppress(UsageError):
                facets.urls.add(normalise_url(str(url)))
        facets.sha256.update(
            conn.execute(
                select(evidence_parts.c.sha256)
                .join(evidence_captures, evidence_captures.c.id == evidence_parts.c.capture_id)
                .where(evidence_captures.c.case_id == case_id)
            ).scalars()
        )

    return provide


def _gate(urls: Iterable[str]) -> Check:
    provider = document_facets(urls)

    def check(store: Store | None, request: TransitionRequest) -> str | None:
        if store is None:
            return None
        guard = store.identities
        settings = guard.settings if isinstance(guard, IdentityGuard) else PrivacySettings()
        case = request.case
        try:
            DeconflictionGate(settings, (provider,))(
                store, int(case.id or 0), str(case.state), str(request.to), request.actor
            )
        except DeconflictionBlocked as exc:
            return str(exc)
        return None

    return check


def _checks(urls: Iterable[str]) -> tuple[Check, ...]:
    return (*registered_checks(), _gate(urls))


def _refused(store: Store, actor: str, action: str, target: int, why: str, details: dict[str, Any]) -> None:
    audit.append(store, actor, f"referral.{action}_refused", "case", target, {"why": why, **details})


def _may(role: str, move: tuple[S, S], what: str) -> None:
    if role not in TRANSITIONS[move]:
        raise Forbidden(f"role {role!r} may not {what}")


def clear_to_draft(store: Store, case_id: int, kind: str, urls: list[str], actor: str, role: str) -> bool:
    """Raise unless ``actor`` may draft a ``kind`` document for the case now; True when drafting it
    proposes the case (it is in ``decision``), False when the case is already proposed."""
    info = {"kind": kind, "urls": urls}
    try:
        case = store.get_case(case_id)
        if case is None:
            raise UsageError(f"case {case_id} does not exist")
        state, decided = S(case.state), str(case.meta.get("decision") or "")
        if state not in (S.DECISION, S.PROPOSED):
            raise InvalidTransition(
                f"case {case_id} is {state!s}: a document is drafted once the case is confirmed and decided"
                " (state decision or proposed)"
            )
        if decided != DOCUMENT_FOR[kind]:
            raise InvalidTransition(
                f"case {case_id} was decided {decided or 'nothing'!r}; a {kind.replace('_', ' ')} needs the"
                f" decision {str(DOCUMENT_FOR[kind])!r}"
            )
        if state == S.PROPOSED:
            _may(role, (S.DECISION, S.PROPOSED), "draft documents")
    except (UsageError, WorkflowError) as exc:
        _refused(store, actor, "draft", case_id, str(exc), {"role": role, **info})
        raise
    reason = f"{kind.replace('_', ' ')} drafted for review"
    try:
        preflight(
            store, case_id, S.PROPOSED, actor, role, reason, checks=_checks(urls), stay=state == S.PROPOSED
        )
    except WorkflowError as exc:
        _refused(store, actor, "draft", case_id, str(exc), {"role": role, **info})
        raise
    return state == S.DECISION


def clear_to_send(store: Store, document: dict[str, Any], actor: str, role: str) -> bool:
    """Raise unless ``actor`` may send ``document`` now; True when sending it moves the case to ``sent``
    (the case is ``approved``), False for a further copy in a round already sent."""
    case_id, doc_id = int(document["case_id"]), int(document["id"])
    info = {"document_id": doc_id, "reference": document["reference"], "role": role}
    try:
        case = store.get_case(case_id)
        if case is None:
            raise UsageError(f"case {case_id} does not exist")
        state = S(case.state)
        with store.read() as conn:
            review = current_round(conn, case_id)
        if doc_id not in review.documents:
            raise InvalidTransition(
                f"document {doc_id} was not drafted in case {case_id}'s current review round"
                " (the proposal was sent back or the case reopened); draft it again"
            )
        if state not in (S.APPROVED, *SENT_IN_ROUND) or review.approved_by is None:
            raise InvalidTransition(
                f"case {case_id} is {state!s}: document {doc_id} may be sent once a second person has"
                " approved the proposal"
            )
        if review.approved_by == document["created_by"]:
            raise Forbidden(f"four eyes: {review.approved_by} drafted document {doc_id} and approved it")
        _may(role, (S.APPROVED, S.SENT), "send documents")
    except (UsageError, WorkflowError) as exc:
        _refused(store, actor, "send", case_id, str(exc), info)
        raise
    try:
        preflight(
            store,
            case_id,
            S.SENT,
            actor,
            role,
            f"send {document['reference']}",
            checks=_checks(document["urls"]),
            stay=state != S.APPROVED,
        )
    except WorkflowError as exc:
        _refused(store, actor, "send", case_id, str(exc), info)
        raise
    return state == S.APPROVED
