"""The network page at ``/graph``: an interactive graph (vis-network, served from /static) drawn from
``/api/v1/graph`` (``vigil.web.api.graph``), with filters, a node's items and cases, and an outlet's
timeline of domains and takedowns."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from vigil.web import page
from vigil.web.api.graph import api
from vigil.web.auth import Principal, optional_principal
from vigil.web.context import AppContext, get_ctx
from vigil.workflow.roles import Permission, can

PAGE = "/graph"
NAV = [("Network", PAGE)]
router = APIRouter(include_in_schema=False)


@router.get(PAGE, response_class=HTMLResponse)
def network_page(
    request: Request,
    ctx: Annotated[AppContext, Depends(get_ctx)],
    who: Annotated[Principal | None, Depends(optional_principal)],
) -> Response:
    """The network view: needs a login whose role may view cases."""
    if who is None:
        return page.login_redirect()
    if not can(who.role, Permission.VIEW_CASES):
        return page.forbidden(request, ctx, who, f"role {who.role!r} may not view the network")
    return page.render(request, ctx, who, "graph.html", graph_api=api.prefix)
