"""The case page's form recording a provider's reply to a sent document: an acknowledgement, Annex II
(removed or disabled), Annex III (cannot comply, with the Art. 3(7)/(8) reasons), the end of an obstacle, a
complaint or a reinstatement.

The fields go as typed to ``vigil.referral.replies.record_reply``, the function behind
``POST /api/v1/documents/{id}/replies`` and ``vigil referral reply``: it checks the role (and audits a
refusal), checks the Annex forms field by field, stores the reply, writes the case history and the audit
log, moves a ``sent`` case on and makes the re-check of an order's URLs due after an Annex II. Like its API
twin, the page lets only roles with ``cases.work`` in (403 at its gate, ``page_access``); it checks no
field itself and only passes the fields the chosen kind's form has. A refusal re-renders the case page
with the reason (``#reply-error``) and the form as typed: 422 for a field the form cannot use (the
message names it), 409 when the document cannot take that reply, 404 for an unknown document, 403 for a
missing CSRF token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.errors import VigilError
from vigil.referral.annex_replies import ANNEX_II_FIELDS, ANNEX_III_FIELDS, MAX_TEXT
from vigil.referral.documents import get_document
from vigil.referral.replies import REASON_LABELS, record_reply
from vigil.web import page
from vigil.web.auth import Principal
from vigil.web.context import AppContext, get_ctx
from vigil.web.page import page_access
from vigil.web.ui.pages import render_case
from vigil.web.ui.referral import Id, refusal
from vigil.workflow.errors import Forbidden, WorkflowError
from vigil.workflow.roles import Permission

router = APIRouter(include_in_schema=False)
# Longer than the core's limit, so that the core names a field that is too long.
Text = Annotated[str, Form(max_length=2 * MAX_TEXT)]
FIELDS: dict[str, frozenset[str]] = {
    "annex_ii": frozenset(ANNEX_II_FIELDS),
    "annex_iii": frozenset(ANNEX_III_FIELDS - {"reason"}),
    "obstacle_ended": frozenset({"clarification", "note"}),
}
OTHER = frozenset({"note"})
REPLIES = page_access(
    Permission.WORK_CASES, "record replies", twin="POST /api/v1/documents/{document_id}/replies"
)  # acknowledgement, complaint, reinstatement: free objects in the core


def reply_data(kind: str, typed: dict[str, str], reasons: list[str]) -> dict[str, Any]:
    """The fields of ``kind``'s form that were filled in (Annex III reasons as the list the core takes)."""
    fields = FIELDS.get(kind, OTHER)
    data: dict[str, Any] = {k: v for k, v in typed.items() if k in fields and v.strip()}
    if "reasons" in fields and reasons:
        data["reasons"] = reasons
    return data


def _status(exc: VigilError) -> int:
    return exc.status if isinstance(exc, WorkflowError) else 422


@router.post("/documents/{document_id}/replies", response_class=HTMLResponse)
def post_reply(
    request: Request,
    document_id: Id,
    kind: Text = "",  # any length reaches the core, which names the field
    reference: Text = "",
    received_at: Text = "",
    provider: Text = "",
    member_state: Text = "",
    provider_reference: Text = "",
    authorised_person: Text = "",
    measure: Text = "",
    measure_at: Text = "",
    reasons: Annotated[list[str] | None, Form(max_length=len(REASON_LABELS))] = None,
    explanation: Text = "",
    clarification_requested: Text = "",
    clarification: Text = "",
    note: Text = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
    user: Principal = Depends(REPLIES),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """Record a provider's reply to a sent document, through the core function the API uses."""
    refused = refusal(request, ctx, user, csrf)
    if refused is not None:
        return refused
    typed = {
        "reference": reference,
        "received_at": received_at,
        "provider": provider,
        "member_state": member_state,
        "provider_reference": provider_reference,
        "authorised_person": authorised_person,
        "measure": measure,
        "measure_at": measure_at,
        "explanation": explanation,
        "clarification_requested": clarification_requested,
        "clarification": clarification,
        "note": note,
    }
    picked = [r[:64] for r in reasons or []]
    try:
        record_reply(ctx.store, document_id, kind, user.name, reply_data(kind, typed, picked), role=user.role)
    except VigilError as exc:
        case_id = _case_of(ctx, document_id)
        if case_id is None or isinstance(exc, Forbidden):  # the role's refusal: no form to show it by
            return page.render(request, ctx, user, "error.html", _status(exc), message=str(exc))
        submitted = {**typed, "kind": kind, "reasons": picked, "document": document_id}
        return render_case(
            request, ctx, user, case_id, status=_status(exc), reply_error=str(exc), reply_form=submitted
        )
    return RedirectResponse(f"/cases/{_case_of(ctx, document_id)}#reply-{document_id}", status_code=303)


def _case_of(ctx: AppContext, document_id: int) -> int | None:
    try:
        return int(get_document(ctx.store, document_id)["case_id"])
    except VigilError:
        return None
