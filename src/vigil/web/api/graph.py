"""The graph over HTTP: the same queries as ``vigil graph`` under ``/api/v1/graph`` (the network page,
``vigil.web.ui.graph``, draws from them).

Both need a logged-in user whose role may view cases (a bearer token or the UI's session cookie), as
the rest of the API does. Exports are recorded in the audit log under the caller's name.

The whole-graph analyses (communities, key actors, the network view, shortest paths) never run in a
request thread: a native error there aborts the process. They run in a child process that holds the
loaded graph and keeps it up to date (``vigil.graph.isolation.Isolated``, one per app on
``app.state.graph_analyses``, stopped with the app); a failure, a crash or a time-out of the child is an
error answer (500, or 503 for a time-out), and the server answers on. The other routes are SQL only.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response, StreamingResponse

from vigil.errors import UsageError
from vigil.graph.isolation import AnalysisTimeout, GraphAnalysisError, Isolated
from vigil.store.types import MAX_ROW_ID
from vigil.web.auth import Principal, require
from vigil.web.context import AppContext, get_ctx
from vigil.web.errors import ApiError
from vigil.workflow.roles import Permission

EXPORT_TYPES = {
    "gexf": "application/gexf+xml",
    "graphml": "application/graphml+xml",
    "json": "application/json",
}

log = logging.getLogger(__name__)
viewer = require(Permission.VIEW_CASES)
api = APIRouter(prefix="/api/v1/graph", tags=["graph"], dependencies=[Depends(viewer)])


def _analyses(request: Request, ctx: AppContext) -> Isolated:
    """The app's analysis process(es), made on first use (nothing starts until an analysis runs)."""
    state = request.app.state
    found = getattr(state, "graph_analyses", None)
    if found is None or found.store is not ctx.store:
        found = state.graph_analyses = Isolated(ctx.store)
        if not hasattr(state, "on_close"):
            state.on_close = []
        state.on_close.append(found.close)
    return found  # type: ignore[no-any-return,unused-ignore]


def _analysis(request: Request, ctx: AppContext, name: str, *args: Any) -> Response:
    """A whole-graph analysis, run apart from the server (see the module's docstring); the child encodes
    the answer as JSON, which is sent as it comes."""
    body = _guarded(_analyses(request, ctx).run_json, name, *args)
    return Response(body, media_type="application/json")


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return _guarded(lambda: jsonable_encoder(fn(*args, **kwargs)))


def _guarded(fn: Any, *args: Any) -> Any:
    """``fn(*args)`` with the graph's errors as API errors."""
    try:
        return fn(*args)
    except UsageError as exc:
        status = 404 if str(exc).startswith("no ") else 400
        raise ApiError(status, str(exc)) from exc
    except AnalysisTimeout as exc:
        raise ApiError(503, str(exc), {"Retry-After": "30"}) from exc
    except GraphAnalysisError as exc:
        log.error("graph analysis failed: %s", exc)
        raise ApiError(500, str(exc)) from exc


Ctx = Annotated[AppContext, Depends(get_ctx)]
Top = Annotated[int, Query(ge=1, le=1000)]


@api.get("/stats")
def stats(ctx: Ctx) -> Any:
    """Nodes and edges by kind, items graphed and waiting, the graph version."""
    from vigil.graph.stats import stats as compute

    return _call(compute, ctx.store)


@api.get("/outlets")
def outlets(ctx: Ctx) -> Any:
    from vigil.graph.outlets import list_outlets

    return _call(list_outlets, ctx.store)


@api.get("/actors")
def actors(
    request: Request, ctx: Ctx, outlet: Annotated[str | None, Query(max_length=200)] = None, top: Top = 20
) -> Any:
    """Likely administrators of an outlet (``outlet=``), or key actors of the whole graph."""
    if outlet:
        from vigil.graph.admins import administrators

        return _call(administrators, ctx.store, outlet, top)
    return _analysis(request, ctx, "key_actors", top)


@api.get("/spreaders")
def spreaders(ctx: Ctx, top: Top = 20) -> Any:
    from vigil.graph.spreaders import spreaders as compute

    return _call(compute, ctx.store, top)


@api.get("/lineage")
def lineage(ctx: Ctx, outlet: Annotated[str, Query(min_length=1, max_length=200)]) -> Any:
    """The outlet's domains in succession order, with the takedowns seen on each."""
    from vigil.graph.lineage import lineage as compute

    return _call(compute, ctx.store, outlet)


@api.get("/communities")
def communities(
    request: Request, ctx: Ctx, method: Annotated[str, Query(pattern="^(leiden|louvain)$")] = "leiden"
) -> Any:
    return _analysis(request, ctx, "communities", method)


@api.get("/ego")
def ego(
    ctx: Ctx,
    node: Annotated[str, Query(min_length=1, max_length=700)],
    radius: Annotated[int, Query(ge=1, le=3)] = 1,
    limit: Annotated[int, Query(ge=1, le=5000)] = 300,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Any:
    from vigil.graph.paths import ego as compute

    return _call(compute, ctx.store, node, radius, limit, since=since, until=until)


@api.get("/path")
def path(
    request: Request,
    ctx: Ctx,
    source: Annotated[str, Query(min_length=1, max_length=700)],
    target: Annotated[str, Query(min_length=1, max_length=700)],
) -> Any:
    from vigil.graph.view import resolve_node

    first = _call(resolve_node, ctx.store, source)  # SQL (and the identity guard) here; the path apart
    second = _call(resolve_node, ctx.store, target)
    return _analysis(request, ctx, "path", first, second)


@api.get("/network")
def network(
    request: Request,
    ctx: Ctx,
    kind: Annotated[list[str] | None, Query(max_length=32)] = None,
    community: Annotated[int | None, Query(ge=0)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 300,
) -> Any:
    """What the network page draws: the best-connected nodes for the filters and the edges among them."""
    return _analysis(request, ctx, "network", tuple(kind or ()), community, since, until, limit)


@api.get("/nodes/{node_id}")
def node(request: Request, ctx: Ctx, node_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)]) -> Any:
    """A node, its strongest edges with evidence, the items behind them and their cases."""
    from vigil.graph.network import node_detail
    from vigil.graph.view import GraphView

    return _call(node_detail, GraphView(ctx.store), node_id)  # SQL only: the graph is not loaded


@api.get("/export")
def export(
    ctx: Ctx,
    who: Annotated[Principal, Depends(viewer)],
    fmt: Annotated[str, Query(alias="format", pattern="^(gexf|graphml|json)$")] = "gexf",
) -> Response:
    """The whole graph for Gephi and other tools, streamed; the export goes on the audit record."""
    from vigil.audit.log import append
    from vigil.graph.export import count, stream_export

    nodes, edges = count(ctx.store)
    append(ctx.store, who.name, "graph.export", "graph", fmt, {"nodes": nodes, "edges": edges, "via": "api"})
    return StreamingResponse(
        stream_export(ctx.store, fmt),
        media_type=EXPORT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="vigil-graph.{fmt}"'},
    )


router = APIRouter()
router.include_router(api)
