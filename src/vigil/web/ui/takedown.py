"""The transparency report page: removal orders and their outcome, removal rate and time to removal per
provider, with server-rendered SVG charts (no JavaScript library, no CDN)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from vigil.errors import UsageError
from vigil.referral.transparency import build_report
from vigil.web import charts
from vigil.web.api.takedown import period
from vigil.web.auth import Principal
from vigil.web.context import AppContext, get_ctx
from vigil.web.page import page_access
from vigil.workflow.roles import Permission, can

router = APIRouter(include_in_schema=False)
NAV = [("Takedown", "/reports/transparency")]
FIGURES = page_access(Permission.VIEW_CASES, "read takedown figures", twin="GET /api/v1/reports/transparency")


def report_charts(report: dict[str, Any]) -> dict[str, str]:
    providers = {name: p for name, p in sorted(report["providers"].items()) if p["urls"]}
    rates = {name: round(p["removal_rate"] * 100, 1) for name, p in providers.items()}
    hours = {
        name: float(p["median_hours_to_removal"])
        for name, p in providers.items()
        if p["median_hours_to_removal"] is not None
    }
    p95 = {
        name: float(p["p95_hours_to_removal"])
        for name, p in providers.items()
        if p["p95_hours_to_removal"] is not None
    }
    reported = {
        name: float(p["median_reported_hours_to_removal"])
        for name, p in sorted(report["providers"].items())
        if p.get("median_reported_hours_to_removal") is not None
    }
    return {
        "Removal rate per provider (% of referred URLs)": charts.bars(
            "removal rate per provider", rates, " %"
        ),
        "Median hours from referral to removal, per provider": charts.bars(
            "median time to removal per provider", hours, " h"
        ),
        "95th percentile hours to removal, per provider": charts.bars(
            "p95 time to removal per provider", p95, " h"
        ),
        "Median hours to removal reported by the provider (Annex II), per provider": charts.bars(
            "reported time to removal per provider", reported, " h"
        ),
    }


@router.get("/reports/transparency", response_class=HTMLResponse)
def transparency_page(
    request: Request,
    start: Annotated[date | None, Query()] = None,
    end: Annotated[date | None, Query()] = None,
    who: Principal = Depends(FIGURES),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    values: dict[str, Any] = {"who": who, "nav": ctx.nav, "can": can, "Permission": Permission}
    try:
        first, last, lower, upper = period(start, end)
    except UsageError as exc:
        values.update(error=str(exc), start=start or "", end=end or "", report=None, svgs={})
        return ctx.templates.TemplateResponse(request, "transparency.html", values, status_code=400)
    report = build_report(ctx.store, lower, upper)
    values.update(start=first.isoformat(), end=last.isoformat(), report=report, svgs=report_charts(report))
    return ctx.templates.TemplateResponse(request, "transparency.html", values)
