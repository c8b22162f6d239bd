"""Counts: nodes and edges by kind, items graphed, items waiting for the graph, graph version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from vigil.graph.state import get_state
from vigil.graph.tables import graph_edges, graph_items, graph_nodes
from vigil.graph.update import pending
from vigil.store import Store


def stats(store: Store) -> dict[str, Any]:
    with store.read() as conn:
        nodes: dict[str, int] = dict(
            conn.execute(select(graph_nodes.c.kind, func.count()).group_by(graph_nodes.c.kind)).all()
        )
        edges: dict[str, int] = dict(
            conn.execute(select(graph_edges.c.kind, func.count()).group_by(graph_edges.c.kind)).all()
        )
        graphed = conn.execute(select(func.count()).select_from(graph_items)).scalar_one()
        version = int(get_state(conn, "version", 0))
    return {
        "nodes": sum(nodes.values()),
        "edges": sum(edges.values()),
        "nodes_by_kind": dict(sorted(nodes.items())),
        "edges_by_kind": dict(sorted(edges.items())),
        "items_graphed": int(graphed),
        "items_pending": pending(store),
        "version": version,
    }
