"""``/api/v1/watch``: watched sources and their health (what ``vigil watch list --health`` prints; the
source-health page is ``vigil.web.ui.sources``). Needs a login with ``cases.view``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from vigil.watch.health import source_health
from vigil.web.api.schemas import ErrorOut
from vigil.web.auth import Principal, require
from vigil.web.context import AppContext, get_ctx
from vigil.web.errors import ApiError
from vigil.workflow.roles import Permission

MAX_RUNS = 500
ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}}
Runs = Annotated[int, Query(ge=0, le=MAX_RUNS, description="The last runs of each source to include.")]


class RunOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    started_at: str
    finished_at: str
    seconds: float
    ok: bool
    items: int
    new_items: int
    cases: int
    error: str | None
    owner: str


class SourceHealth(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int
    name: str
    kind: str
    target: str
    fmt: str | None
    interval_s: float
    enabled: bool
    health: str
    robots_override: str | None
    last_run_at: str | None
    last_success_at: str | None
    last_error: str | None
    last_error_at: str | None
    consecutive_failures: int
    next_due_at: str | None
    backoff_s: float | None
    items_total: int
    running: bool
    lease_owner: str | None
    lease_until: str | None
    lease_generation: int
    options: dict[str, Any]
    state: dict[str, Any]
    runs: list[RunOut] = []
    last_new_items: int | None = None


class SourcesOut(BaseModel):
    sources: list[SourceHealth]


api = APIRouter(prefix="/api/v1/watch", tags=["watch"])


@api.get("/sources", response_model=SourcesOut, responses=ERRORS)
def list_sources(
    runs: Runs = 20,
    who: Principal = Depends(require(Permission.VIEW_CASES)),
    ctx: AppContext = Depends(get_ctx),
) -> JSONResponse:
    """Every watched source, failing ones first: schedule, back-off, lease, last error, last runs."""
    return JSONResponse({"sources": source_health(ctx.store, runs)})


@api.get("/sources/{name}", response_model=SourceHealth, responses={**ERRORS, 404: {"model": ErrorOut}})
def get_source(
    name: Annotated[str, Path(min_length=1, max_length=128)],
    runs: Runs = 100,
    who: Principal = Depends(require(Permission.VIEW_CASES)),
    ctx: AppContext = Depends(get_ctx),
) -> JSONResponse:
    """One watched source's health and its last runs."""
    found = source_health(ctx.store, runs, name=name)
    if not found:
        raise ApiError(404, f"no watched source named {name!r}")
    return JSONResponse(found[0])


router = APIRouter()
router.include_router(api)
