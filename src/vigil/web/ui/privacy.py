"""Lawful processing in the UI: the do-not-refer list for investigators, the DPO's report of reveals, and
(through ``/static/privacy.js`` and ``privacy_case.html``, included by the case page) the reveal control.

One entry in ``FEATURE_ROUTERS`` mounts the JSON API (``vigil.web.api.privacy``) and these pages together.
Forms carry the session's CSRF token, as the case page's do.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from vigil.core.model import utcnow
from vigil.errors import UsageError
from vigil.privacy import deconfliction, reveal
from vigil.privacy.access import ADMIN
from vigil.store.types import MAX_ROW_ID
from vigil.web import page
from vigil.web.api import privacy as api
from vigil.web.auth import Principal, csrf_ok
from vigil.web.context import AppContext, get_ctx
from vigil.web.errors import ApiError
from vigil.web.page import page_access
from vigil.workflow.roles import Permission

router = APIRouter()
router.include_router(api.router)
pages = APIRouter(prefix="/privacy", include_in_schema=False)
NAV = [("Do not refer", "/privacy/dnr"), ("Reveals", "/privacy/reveals")]
KEEP = "keep do-not-refer entries"
DNR = page_access(Permission.MANAGE_DNR, KEEP, twin="GET /api/v1/privacy/dnr")
DNR_ADD = page_access(Permission.MANAGE_DNR, KEEP, twin="POST /api/v1/privacy/dnr")
DNR_LIFT = page_access(Permission.MANAGE_DNR, KEEP, twin="POST /api/v1/privacy/dnr/{entry_id}/lift")
REVEALS = page_access(Permission.PRIVACY_REPORT, "read the reveal report", twin="GET /api/v1/privacy/reveals")


def _dnr_page(
    request: Request, ctx: AppContext, who: Principal, error: str = "", status: int = 200
) -> HTMLResponse:
    everyone = who.role == ADMIN
    entries = api.list_dnr(ctx.store, who, everyone, include_inactive=False)
    return page.render(
        request,
        ctx,
        who,
        "privacy_dnr.html",
        status,
        entries=entries,
        everyone=everyone,
        kinds=deconfliction.KINDS,
        notes=deconfliction.pending_notifications(ctx.store, who.name),
        max_days=api.privacy_settings(ctx).dnr_max_days,
        error=error,
        now=utcnow(),
    )


def _checked(request: Request, ctx: AppContext, who: Principal, csrf: str) -> Response | None:
    """A response that refuses the change (no CSRF token: the role was checked by the page's gate)."""
    if who.via != "session" or not csrf_ok(who, csrf):
        return page.forbidden(request, ctx, who, "missing or wrong CSRF token; reload the page")
    return None


@pages.get("/dnr", response_class=HTMLResponse)
def dnr_page(request: Request, who: Principal = Depends(DNR), ctx: AppContext = Depends(get_ctx)) -> Response:
    return _dnr_page(request, ctx, who)


@pages.post("/dnr", response_class=HTMLResponse)
def dnr_add(
    request: Request,
    kind: Annotated[str, Form(max_length=16)] = "",
    value: Annotated[str, Form(max_length=2048)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
    days: Annotated[int, Form(ge=1, le=100_000)] = 90,
    csrf: Annotated[str, Form(max_length=200)] = "",
    who: Principal = Depends(DNR_ADD),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    refused = _checked(request, ctx, who, csrf)
    if refused is not None:
        return refused
    try:
        api.add_dnr(
            ctx, who, api.DnrIn(kind=kind, value=value, reason=reason, days=days, expires_at=None, owner=None)
        )
    except (UsageError, ApiError, ValidationError) as exc:
        status = exc.status if isinstance(exc, ApiError) else 400
        return _dnr_page(request, ctx, who, _message(exc), status)
    return RedirectResponse("/privacy/dnr", status_code=303)


@pages.post("/dnr/{entry_id}/lift", response_class=HTMLResponse)
def dnr_lift(
    request: Request,
    entry_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
    note: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
    who: Principal = Depends(DNR_LIFT),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    refused = _checked(request, ctx, who, csrf)
    if refused is not None:
        return refused
    try:
        api.lift_dnr(ctx, who, entry_id, note)
    except (UsageError, ApiError) as exc:
        status = exc.status if isinstance(exc, ApiError) else 400
        return _dnr_page(request, ctx, who, _message(exc), status)
    return RedirectResponse("/privacy/dnr", status_code=303)


@pages.get("/reveals", response_class=HTMLResponse)
def reveals_page(
    request: Request, who: Principal = Depends(REVEALS), ctx: AppContext = Depends(get_ctx)
) -> Response:
    report: dict[str, Any] = reveal.reveal_report(ctx.store)
    return page.render(request, ctx, who, "privacy_reveals.html", report=report, reasons=reveal.REASON_CODES)


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return exc.reason if isinstance(exc, ApiError) else str(exc)


router.include_router(pages)
