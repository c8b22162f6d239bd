"""Counts: nodes and edges by kind, items graphed, items waiting for the graph, graph version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from vigil.graph.state import count_rows, get_state, lock, set_state
from vigil.graph.tables import graph_items
from vigil.graph.update import pending
from vigil.store import Store


def stats(store: Store) -> dict[str, Any]:
    """From the counts kept as rows are added (``state.add_counts``): no scan of the node and edge tables."""
    with store.read() as conn:
        counts = get_state(conn, "counts")
        graphed = conn.execute(select(func.count()).select_from(graph_items)).scalar_one()
        version = int(get_state(conn, "version", 0))
    if counts is None:
        with store.write() as conn:
            lock(conn)
            counts = get_state(conn, "counts") or count_rows(conn)
            set_state(conn, "counts", counts)
    nodes: dict[str, int] = {k: n for k, n in counts["nodes"].items() if n}
    edges: dict[str, int] = {k: n for k, n in counts["edges"].items() if n}
    return {
        "nodes": sum(nodes.values()),
        "edges": sum(edges.values()),
        "nodes_by_kind": dict(sorted(nodes.items())),
        "edges_by_kind": dict(sorted(edges.items())),
        "items_graphed": int(graphed),
        "items_pending": pending(store),
        "version": version,
    }
