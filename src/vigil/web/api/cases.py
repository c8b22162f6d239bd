"""``/api/v1/cases``: the queue, the case file, and transitions."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from vigil.core.model import CaseState, Severity, utcnow
from vigil.store.types import MAX_ROW_ID
from vigil.web.api.schemas import CaseDetail, CasePage, CaseSummary, ErrorOut, TabCounts, TabOut, TransitionIn
from vigil.web.auth import Principal, require
from vigil.web.context import AppContext, get_ctx
from vigil.workflow.queue import MAX_PAGE, list_queue, open_case
from vigil.workflow.roles import Permission
from vigil.workflow.tabs import TABS, Viewer, tab_clause, tab_counts
from vigil.workflow.transition import transition

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])
ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
}
CaseId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
Tab = StrEnum("Tab", {key: key for key in TABS})  # type: ignore[misc]


def viewer_of(who: Principal, ctx: AppContext) -> Viewer:
    return Viewer(who.name, who.role, ctx.sla, utcnow())


@router.get("", response_model=CasePage, responses=ERRORS)
def list_cases(
    state: CaseState | None = None,
    severity: Severity | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    after: Annotated[str | None, Query(max_length=100)] = None,
    tab: Tab | None = None,
    who: Principal = Depends(require(Permission.VIEW_CASES)),
    ctx: AppContext = Depends(get_ctx),
) -> JSONResponse:
    """The review queue, oldest first (the nearest deadline leads), one page at a time; ``tab`` narrows
    it to one of the queue's tabs (``GET /api/v1/cases/tabs`` lists them with their counts)."""
    viewer = viewer_of(who, ctx)
    page = list_queue(
        ctx.store,
        str(state) if state else None,
        str(severity) if severity else None,
        limit,
        after,
        where=tab_clause(str(tab), viewer) if tab else None,
    )
    rows = [CaseSummary.row(c, viewer.now, ctx.sla) for c in page.cases]
    return JSONResponse({"cases": rows, "next_cursor": page.next_cursor})


@router.get("/tabs", response_model=TabCounts, responses=ERRORS)
def list_tabs(
    who: Principal = Depends(require(Permission.VIEW_CASES)), ctx: AppContext = Depends(get_ctx)
) -> TabCounts:
    """The queue's tabs with how many cases each holds for you now (one query), and the SLAs in force."""
    counts = tab_counts(ctx.store, viewer_of(who, ctx))
    return TabCounts(
        tabs=[TabOut(key=k, label=label, count=counts[k]) for k, label in TABS.items()],
        sla=ctx.sla.to_dict(),
    )


@router.get("/{case_id}", response_model=CaseDetail, responses=ERRORS)
def get_case(
    case_id: CaseId,
    who: Principal = Depends(require(Permission.VIEW_CASES)),
    ctx: AppContext = Depends(get_ctx),
) -> CaseDetail:
    """The case file: the item, why it was flagged, matches, history, clocks. The view is audited."""
    found = open_case(ctx.store, case_id, who.name, who.role, ctx.sla, via="api")
    return CaseDetail(**found.to_dict())


@router.post("/{case_id}/transition", response_model=CaseSummary, responses=ERRORS)
def post_transition(
    case_id: CaseId,
    body: TransitionIn,
    who: Principal = Depends(require(Permission.WORK_CASES)),
    ctx: AppContext = Depends(get_ctx),
) -> CaseSummary:
    """Move a case to another state; the role, the four-eyes rule and registered checks apply."""
    case = transition(ctx.store, case_id, body.to, who.name, who.role, body.reason, **body.details())
    return CaseSummary.of(case, utcnow(), ctx.sla)
