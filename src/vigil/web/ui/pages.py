"""The UI's pages: log-in, queue, case, audit, dashboard, and the media a reviewer chooses to reveal.

Pages use a session cookie; every form carries the session's CSRF token, and the JavaScript sends it as
``X-CSRF-Token``. Media is served only to logged-in users, never cached, and every fetch is audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select

from vigil.audit import log as audit
from vigil.core.model import CaseState, Severity, utcnow
from vigil.privacy.access import may_reveal
from vigil.privacy.reveal import REASON_CODES
from vigil.privacy.settings import PrivacySettings
from vigil.privacy.views import audit_row, is_masked
from vigil.referral.case_file import takedown_file
from vigil.referral.drafting import form_defaults
from vigil.referral.replies import form_choices
from vigil.store.media import MediaSink
from vigil.store.schema import media
from vigil.store.types import MAX_ROW_ID
from vigil.web import charts, login_csrf, page
from vigil.web.auth import SESSION_COOKIE, Principal, csrf_ok, optional_principal, public
from vigil.web.context import AppContext, get_ctx
from vigil.web.errors import error_response
from vigil.web.page import page_access
from vigil.web.transport import secure_cookies
from vigil.workflow import accounts
from vigil.workflow.errors import AuthError, WorkflowError
from vigil.workflow.queue import MAX_PAGE, list_queue, open_case
from vigil.workflow.roles import Permission
from vigil.workflow.sla import next_deadline
from vigil.workflow.states import LABELS, REQUIRED_DETAILS, Decision, RecheckOutcome
from vigil.workflow.stats import dashboard
from vigil.workflow.tabs import TABS, Viewer, overdue_per_queue, tab_clause, tab_counts
from vigil.workflow.transition import transition

router = APIRouter(include_in_schema=False)
NAV = [("Queue", "/"), ("Dashboard", "/dashboard"), ("Audit", "/audit")]
Sha = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]


def _login_page(request: Request, ctx: AppContext, status: int = 200, **values: Any) -> HTMLResponse:
    """The log-in form with a fresh CSRF token in its hidden field and in the cookie (``login_csrf``)."""
    token = login_csrf.new_token()
    response = page.render(request, ctx, None, "login.html", status, login_csrf=token, **values)
    login_csrf.set_cookie(response, request, token)
    return response


VIEW_CASES = Permission.VIEW_CASES
CASES = page_access(VIEW_CASES, "view cases", twin="GET /api/v1/cases")
CASE = page_access(VIEW_CASES, "view cases", twin="GET /api/v1/cases/{case_id}")
MOVE = page_access(Permission.WORK_CASES, "work cases", twin="POST /api/v1/cases/{case_id}/transition")
MEDIA = page_access(VIEW_CASES, "view media", json=True)
AUDIT = page_access(Permission.VIEW_AUDIT, "read the audit log", twin="GET /api/v1/audit")


@router.get("/login", response_class=HTMLResponse, dependencies=[Depends(public)])
def login_form(request: Request, ctx: AppContext = Depends(get_ctx)) -> HTMLResponse:
    return _login_page(request, ctx)


@router.post("/login", response_class=HTMLResponse, dependencies=[Depends(public)])
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf: Annotated[str, Form()] = "",
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    if not login_csrf.token_ok(request, csrf):
        return _login_page(request, ctx, 403, error=login_csrf.REFUSED, username=username)
    try:
        user = accounts.authenticate(ctx.store, username, password, via="ui")
    except AuthError as exc:
        return _login_page(request, ctx, 401, error=str(exc), username=username)
    token = accounts.issue_token(ctx.store, user, "session")
    response = RedirectResponse("/", status_code=303)
    login_csrf.clear_cookie(response)
    response.set_cookie(
        SESSION_COOKIE,
        token.value,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        max_age=int(accounts.SESSION_TTL.total_seconds()),
    )
    return response


@router.post("/logout", dependencies=[Depends(public)])
def logout(
    request: Request,
    csrf: Annotated[str, Form(max_length=200)] = "",
    who: Principal | None = Depends(optional_principal),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """End the session, on the server first. A live session's log-out needs its CSRF token like every
    other change (403 otherwise, and the session goes on); without a live session there is nothing to end
    but the cookie."""
    if who is not None and who.via == "session":
        if not csrf_ok(who, csrf):
            return page.forbidden(request, ctx, who, "missing or wrong CSRF token; reload the page")
        accounts.revoke_token(ctx.store, request.cookies.get(SESSION_COOKIE, ""))
        audit.append(ctx.store, who.name, "auth.logout", "user", who.name, {"via": "ui"})
    response = page.login_redirect()
    end_session_cookie(response, request)
    return response


def end_session_cookie(response: Response, request: Request) -> None:
    """Tell the browser to drop the session cookie (with the attributes it was set with)."""
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict", secure=secure_cookies(request))


@router.get("/", response_class=HTMLResponse)
def queue(
    request: Request,
    state: str = "",
    severity: str = "",
    after: str = "",
    tab: str = "all",
    who: Principal = Depends(CASES),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """The queue: tabs with counts (the active one in ``?tab=``, so it can be bookmarked), filters, rows."""
    viewer = Viewer(who.name, who.role, ctx.sla, utcnow())
    try:
        where = tab_clause(tab, viewer)
        found = list_queue(ctx.store, state or None, severity or None, MAX_PAGE // 2, after or None, where)
    except WorkflowError as exc:
        return page.render(request, ctx, who, "error.html", 400, message=str(exc))
    rows = [(c, next_deadline(c, ctx.sla)) for c in found.cases]
    return page.render(
        request,
        ctx,
        who,
        "queue.html",
        rows=rows,
        tab=tab,
        tabs=TABS,
        counts=tab_counts(ctx.store, viewer),
        state=state,
        severity=severity,
        states=list(CaseState),
        severities=list(Severity),
        next_cursor=found.next_cursor,
        now=viewer.now,
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request,
    case_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
    who: Principal = Depends(CASE),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    return render_case(request, ctx, who, case_id)


def render_case(
    request: Request,
    ctx: AppContext,
    who: Principal,
    case_id: int,
    error: str = "",
    status: int = 200,
    **extra: Any,
) -> HTMLResponse:
    """The case page; ``extra`` goes to the template (a form's refusal and what was submitted)."""
    try:
        found = open_case(ctx.store, case_id, who.name, who.role, ctx.sla, via="ui")
    except WorkflowError as exc:
        return page.render(request, ctx, who, "error.html", exc.status, message=str(exc))
    needs = {
        str(to): REQUIRED_DETAILS.get((found.case.state, to)) for to in map(CaseState, found.next_states)
    }
    choices = {Decision: list(Decision), RecheckOutcome: list(RecheckOutcome)}
    return page.render(
        request,
        ctx,
        who,
        "case.html",
        status,
        file=found,
        labels=LABELS,
        needs={k: (v[0], choices[v[1]]) if v else None for k, v in needs.items()},
        takedown=takedown_file(ctx.store, case_id),
        referral=form_defaults(ctx.store, ctx.config, case_id),
        reply_choices=form_choices(),
        error=error,
        now=utcnow(),
        **reveal_control(ctx, who),
        **extra,
    )


@router.post("/cases/{case_id}/transition", response_class=HTMLResponse)
def case_transition(
    request: Request,
    case_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
    to: Annotated[str, Form(max_length=32)],
    reason: Annotated[str, Form(max_length=4000)] = "",
    decision: Annotated[str, Form(max_length=32)] = "",
    outcome: Annotated[str, Form(max_length=32)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
    who: Principal = Depends(MOVE),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    if who.via != "session" or not csrf_ok(who, csrf):
        return page.forbidden(request, ctx, who, "missing or wrong CSRF token; reload the page")
    details: dict[str, Any] = {k: v for k, v in (("decision", decision), ("outcome", outcome)) if v}
    try:
        transition(ctx.store, case_id, to, who.name, who.role, reason, **details)
    except WorkflowError as exc:
        return render_case(request, ctx, who, case_id, error=str(exc), status=exc.status)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/media/{sha256}/reveal")
def reveal(
    request: Request,
    case_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
    sha256: Sha,
    who: Principal = Depends(MEDIA),
    ctx: AppContext = Depends(get_ctx),
) -> JSONResponse:
    """The reviewer chose to see a medium unblurred: put it on the record."""
    if not csrf_ok(who, request.headers.get("x-csrf-token")):
        return error_response(403, "missing or wrong CSRF token")
    audit.append(ctx.store, who.name, "media.reveal", "media", sha256, {"case": case_id})
    return JSONResponse({"revealed": sha256})


@router.get("/media/{sha256}")
def media_file(
    sha256: Sha,
    case: int = 0,
    who: Principal = Depends(MEDIA),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    with ctx.store.read() as conn:
        mime = conn.execute(select(media.c.mime).where(media.c.sha256 == sha256)).scalar()
    path = MediaSink(ctx.config.media_dir).path_for(sha256)
    if mime is None or not path.is_file():
        return error_response(404, "no such media")
    audit.append(ctx.store, who.name, "media.view", "media", sha256, {"case": case or None})
    return FileResponse(path, media_type=mime, headers={"Cache-Control": "no-store"})


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    who: Principal = Depends(AUDIT),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    found = audit.entries(ctx.store, 200, offset)
    return page.render(
        request,
        ctx,
        who,
        "audit.html",
        entries=[(audit_row(e), is_masked(e)) for e in found],
        verified=audit.verify_since_checkpoint(ctx.store),
        offset=offset,
        **reveal_control(ctx, who),
    )


def reveal_control(ctx: AppContext, who: Principal) -> dict[str, Any]:
    """What a page needs to offer the audited reveal of masked free text (``privacy_record.html``)."""
    settings = PrivacySettings.from_config(ctx.config)
    allowed = may_reveal(ctx.store, who.name, [who.role], settings.reveal_roles)
    return {"may_reveal_text": allowed, "reason_codes": REASON_CODES}


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    who: Principal = Depends(page_access(VIEW_CASES, "view case figures")),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    data = dashboard(ctx.store)
    per_state = {str(s): float(data.cases_per_state.get(str(s), 0)) for s in CaseState}
    overdue = overdue_per_queue(ctx.store, Viewer(who.name, who.role, ctx.sla, utcnow()))
    svgs = {
        "Detections per day by language": charts.lines("by language", data.days, data.by_language),
        "Detections per day by outlet": charts.lines("by outlet", data.days, data.by_outlet),
        "Cases per state": charts.bars("cases per state", per_state),
        "Overdue cases per queue": charts.bars(
            "overdue cases per queue", {k: float(v) for k, v in overdue.items()}
        ),
        "Time from referral to removal": charts.histogram(
            "time to removal", data.removal_hours, [1, 6, 24, 72, 168], "h"
        ),
    }
    return page.render(request, ctx, who, "dashboard.html", svgs=svgs, summary=data.removal_summary())
