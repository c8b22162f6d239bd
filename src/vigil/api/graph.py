"""The graph over HTTP: the same queries as ``vigil graph``, and the network view's page and assets.

Self-contained: ``router`` (JSON under ``/graph``) and ``ui_router`` (``/graph/view`` and its scripts)
need only ``request.app.state.store`` (a ``Store``); the app factory mounts them behind its auth with
``app.include_router(router, dependencies=[...])``. A ``GraphView`` is kept on ``app.state.graph_view``
so the loaded graph is reused until the graph changes.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, HTMLResponse, Response

from vigil.errors import UsageError
from vigil.graph.view import GraphView
from vigil.store import Store

WEB = Path(__file__).resolve().parents[1] / "web"
ASSETS = {
    "graph.js": (WEB / "static" / "graph.js", "text/javascript"),
    "graph.css": (WEB / "static" / "graph.css", "text/css"),
    "vis-network.min.js": (
        WEB / "static" / "vendor" / "vis-network" / "vis-network.min.js",
        "text/javascript",
    ),
}
EXPORT_TYPES = {
    "gexf": "application/gexf+xml",
    "graphml": "application/graphml+xml",
    "json": "application/json",
}

router = APIRouter(prefix="/graph", tags=["graph"])
ui_router = APIRouter(prefix="/graph", tags=["graph-ui"])


def _store(request: Request) -> Store:
    store = getattr(request.app.state, "store", None)
    if store is None:
        raise HTTPException(503, "no store configured")
    return store  # type: ignore[no-any-return,unused-ignore]


def _view(request: Request) -> GraphView:
    view = getattr(request.app.state, "graph_view", None)
    if view is None:
        view = request.app.state.graph_view = GraphView(_store(request))
    return view  # type: ignore[no-any-return,unused-ignore]


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return jsonable_encoder(fn(*args, **kwargs))
    except UsageError as exc:
        status = 404 if str(exc).startswith("no ") else 400
        raise HTTPException(status, str(exc)) from exc


Top = Annotated[int, Query(ge=1, le=1000)]


@router.get("/stats")
def stats(request: Request) -> Any:
    from vigil.graph.stats import stats as compute

    return _call(compute, _store(request))


@router.get("/outlets")
def outlets(request: Request) -> Any:
    from vigil.graph.outlets import list_outlets

    return _call(list_outlets, _store(request))


@router.get("/actors")
def actors(
    request: Request, outlet: Annotated[str | None, Query(max_length=200)] = None, top: Top = 20
) -> Any:
    if outlet:
        from vigil.graph.admins import administrators

        return _call(administrators, _store(request), outlet, top)
    from vigil.graph.centrality import key_actors

    return _call(key_actors, _view(request), top)


@router.get("/spreaders")
def spreaders(request: Request, top: Top = 20) -> Any:
    from vigil.graph.spreaders import spreaders as compute

    return _call(compute, _store(request), top)


@router.get("/lineage")
def lineage(request: Request, outlet: Annotated[str, Query(min_length=1, max_length=200)]) -> Any:
    from vigil.graph.lineage import lineage as compute

    return _call(compute, _store(request), outlet)


@router.get("/communities")
def communities(
    request: Request, method: Annotated[str, Query(pattern="^(leiden|louvain)$")] = "leiden"
) -> Any:
    from vigil.graph.communities import communities as compute

    return _call(compute, _view(request), method)


@router.get("/ego")
def ego(
    request: Request,
    node: Annotated[str, Query(min_length=1, max_length=700)],
    radius: Annotated[int, Query(ge=1, le=3)] = 1,
    limit: Annotated[int, Query(ge=1, le=5000)] = 300,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Any:
    from vigil.graph.paths import ego as compute

    return _call(compute, _store(request), node, radius, limit, since=since, until=until)


@router.get("/path")
def path(
    request: Request,
    source: Annotated[str, Query(min_length=1, max_length=700)],
    target: Annotated[str, Query(min_length=1, max_length=700)],
) -> Any:
    from vigil.graph.paths import shortest_path

    return _call(shortest_path, _view(request), source, target)


@router.get("/network")
def network(
    request: Request,
    kind: Annotated[list[str] | None, Query(max_length=32)] = None,
    community: Annotated[int | None, Query(ge=0)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 300,
) -> Any:
    from vigil.graph.network import network as compute

    return _call(compute, _view(request), tuple(kind or ()), community, since, until, limit)


@router.get("/nodes/{node_id}")
def node(request: Request, node_id: int) -> Any:
    from vigil.graph.network import node_detail

    return _call(node_detail, _view(request), node_id)


@router.get("/export")
def export(
    request: Request, fmt: Annotated[str, Query(alias="format", pattern="^(gexf|graphml|json)$")] = "gexf"
) -> Any:
    from vigil.graph.export import to_networkx, write_export
    from vigil.workflow.audit import append

    store = _store(request)
    g = to_networkx(store)
    buf = io.BytesIO()
    write_export(g, fmt, buf)
    user = getattr(request.state, "user", None) or "api"
    append(
        store,
        str(user),
        "graph.export",
        "graph",
        fmt,
        {"nodes": g.number_of_nodes(), "edges": g.number_of_edges()},
    )
    return Response(
        buf.getvalue(),
        media_type=EXPORT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="vigil-graph.{fmt}"'},
    )


@ui_router.get("/view", response_class=HTMLResponse)
def view_page(request: Request) -> HTMLResponse:
    html = (WEB / "templates" / "graph.html").read_text("utf-8")
    base = str(request.app.url_path_for("stats")).rsplit("/stats", 1)[0]
    return HTMLResponse(html.replace("{{ graph_api }}", base))


@ui_router.get("/assets/{name}")
def asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(404, "no such asset")
    file, media_type = ASSETS[name]
    return FileResponse(file, media_type=media_type)
