"""The network page at ``/graph``: an interactive graph (vis-network, served from /static) drawn from
``/api/v1/graph`` (``vigil.web.api.graph``), with filters, a node's items and cases, and an outlet's
timeline of domains and takedowns."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from vigil.web import page
from vigil.web.api.graph import api
from vigil.web.auth import Principal
from vigil.web.context import AppContext, get_ctx
from vigil.web.page import page_access
from vigil.workflow.roles import Permission

PAGE = "/graph"
NAV = [("Network", PAGE)]
router = APIRouter(include_in_schema=False)


@router.get(PAGE, response_class=HTMLResponse)
def network_page(
    request: Request,
    ctx: Annotated[AppContext, Depends(get_ctx)],
    who: Annotated[
        Principal,
        Depends(page_access(Permission.VIEW_CASES, "view the network", twin="GET /api/v1/graph/network")),
    ],
) -> Response:
    """The network view: needs a login whose role may view cases."""
    return page.render(request, ctx, who, "graph.html", graph_api=api.prefix)
