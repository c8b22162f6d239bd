"""The UI's source-health page: every watched source with its last run and success, failures in a row,
next attempt and back-off, items found, last error, who runs it now, and a chart of items per run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from vigil.watch.health import source_health
from vigil.web import charts, page
from vigil.web.auth import Principal
from vigil.web.context import AppContext, get_ctx
from vigil.web.page import page_access
from vigil.workflow.roles import Permission

router = APIRouter(include_in_schema=False)
NAV = [("Sources", "/sources")]
RUNS_CHARTED = 60


@router.get("/sources", response_class=HTMLResponse)
def sources_page(
    request: Request,
    who: Principal = Depends(
        page_access(Permission.VIEW_CASES, "see the watched sources", twin="GET /api/v1/watch/sources")
    ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    rows = source_health(ctx.store, RUNS_CHARTED)
    svgs = [(row["name"], len(row["runs"]), _chart(row)) for row in rows if row["runs"]]
    return page.render(request, ctx, who, "sources.html", rows=rows, svgs=svgs, when=_when)


def _chart(row: dict[str, Any]) -> str:
    points = []
    for run in row["runs"]:
        at = datetime.fromisoformat(run["started_at"])
        tip = f"{_when(run['started_at'])}: " + (
            f"{run['new_items']} new of {run['items']} read in {run['seconds']:g} s"
            if run["ok"]
            else f"failed: {run['error'] or 'unknown error'}"
        )
        points.append((at, float(run["new_items"]), bool(run["ok"]), tip))
    return charts.runs(f"{row['name']}: new items per run", points)


def _when(iso: str | None) -> str:
    """An ISO time as the page shows it (UTC, to the second)."""
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S") if iso else "–"
