"""``/api/v1``: evidence and takedown of a case (captures with their hashes, documents, deliveries,
replies, re-checks, time to removal), recording a provider's reply, and the transparency figures (the
transparency page is ``vigil.web.ui.takedown``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from vigil.audit import log as audit
from vigil.core.model import utcnow
from vigil.errors import UsageError
from vigil.referral.case_file import takedown_file
from vigil.referral.replies import REPLY_KINDS, record_reply
from vigil.referral.transparency import build_report
from vigil.store.types import MAX_ROW_ID
from vigil.web.api.schemas import ErrorOut
from vigil.web.auth import Principal, require
from vigil.web.context import AppContext, get_ctx
from vigil.workflow.errors import NotFound
from vigil.workflow.roles import Permission


def period(start: date | None, end: date | None) -> tuple[date, date, datetime, datetime]:
    """The days asked for (``end`` inclusive; default: the last 30 days) and the half-open UTC interval."""
    end = end or utcnow().date()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise UsageError(f"the period starts ({start}) after it ends ({end})")
    if (end - start).days > MAX_DAYS:
        raise UsageError(f"a period of at most {MAX_DAYS} days")
    lower = datetime.combine(start, time(), UTC)
    return start, end, lower, datetime.combine(end + timedelta(days=1), time(), UTC)


api = APIRouter(prefix="/api/v1", tags=["takedown"])
MAX_DAYS = 3660
DEFAULT_DAYS = 30
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut},
    401: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
}
Id = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


class TakedownOut(BaseModel):
    case_id: int
    captures: list[dict[str, Any]]
    documents: list[dict[str, Any]]
    watches: list[dict[str, Any]]
    time_to_removal_s: float | None
    reported_time_to_removal_s: float | None


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(pattern="^(" + "|".join(REPLY_KINDS) + ")$")
    data: dict[str, Any] = Field(default_factory=dict)
    at: datetime | None = None


class ReplyOut(BaseModel):
    id: int
    document_id: int
    kind: str
    at: datetime
    data: dict[str, Any]


@api.get("/cases/{case_id}/takedown", response_model=TakedownOut, responses=ERRORS)
def get_takedown(
    case_id: Id,
    who: Principal = Depends(require(Permission.VIEW_CASES)),
    ctx: AppContext = Depends(get_ctx),
) -> JSONResponse:
    """The case's evidence captures (who, when, every part's SHA-256), documents with their deliveries and
    the provider's replies, watched URLs with each re-check, and the time to removal. The view is audited."""
    if ctx.store.get_case(case_id) is None:
        raise NotFound(f"no case {case_id}")
    audit.append(ctx.store, who.name, "case.view", "case", case_id, {"via": "api", "part": "takedown"})
    return JSONResponse(takedown_file(ctx.store, case_id))


@api.post("/documents/{document_id}/replies", response_model=ReplyOut, responses=ERRORS, status_code=201)
def post_reply(
    document_id: Id,
    body: ReplyIn,
    who: Principal = Depends(require(Permission.WORK_CASES)),
    ctx: AppContext = Depends(get_ctx),
) -> JSONResponse:
    """Record a provider's reply: Annex II and III are checked field by field (400 names the field)."""
    at = body.at.replace(tzinfo=body.at.tzinfo or UTC) if body.at else None
    stored = record_reply(ctx.store, document_id, body.kind, who.name, body.data, at, role=who.role)
    return JSONResponse(stored, status_code=201)


@api.get("/reports/transparency", responses=ERRORS)
def get_transparency(
    start: Annotated[date | None, Query()] = None,
    end: Annotated[date | None, Query(description="last day, inclusive")] = None,
    who: Principal = Depends(require(Permission.VIEW_CASES)),
    ctx: AppContext = Depends(get_ctx),
) -> JSONResponse:
    """The Art. 7/8 figures for the period (default: the last 30 days), per provider too."""
    _first, _last, lower, upper = period(start, end)
    return JSONResponse(build_report(ctx.store, lower, upper))


router = APIRouter()
router.include_router(api)
