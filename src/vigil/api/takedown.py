"""``/api/v1``: evidence and takedown of a case (captures with their hashes, documents, deliveries,
replies, re-checks, time to removal), recording a provider's reply, and the transparency figures. Mounted
with the transparency page (``vigil.web.takedown``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from vigil.api.auth import Principal, require
from vigil.api.context import AppContext, get_ctx
from vigil.api.schemas import ErrorOut
from vigil.referral.case_file import takedown_file
from vigil.referral.replies import REPLY_KINDS, record_reply
from vigil.referral.transparency import build_report
from vigil.store.types import MAX_ROW_ID
from vigil.web import takedown as page
from vigil.workflow import audit
from vigil.workflow.errors import NotFound
from vigil.workflow.roles import Permission

api = APIRouter(prefix="/api/v1", tags=["takedown"])
NAV = page.NAV
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
    _first, _last, lower, upper = page.period(start, end)
    return JSONResponse(build_report(ctx.store, lower, upper))


router = APIRouter()
router.include_router(api)
router.include_router(page.router)
