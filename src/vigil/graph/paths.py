"""Ego graphs and shortest paths, with the evidence (item ids) on every edge."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

from sqlalchemy import select

from vigil.errors import UsageError
from vigil.graph.tables import graph_edges
from vigil.graph.view import GraphView, edge_public, edges_between, node_public, node_rows, resolve_node
from vigil.store import Store

MAX_RADIUS = 3


def ego(
    store: Store,
    ref: str,
    radius: int = 1,
    limit: int = 300,
    per_node: int = 50,
    since: Any = None,
    until: Any = None,
) -> dict[str, Any]:
    """The node, its neighbours up to ``radius`` hops (the strongest ``per_node`` each), and their edges."""
    if not 0 < radius <= MAX_RADIUS:
        raise UsageError(f"radius must be between 1 and {MAX_RADIUS}")
    center = resolve_node(store, ref)
    seen = {center["id"]}
    frontier = [center["id"]]
    edges: dict[int, dict[str, Any]] = {}
    e = graph_edges.c
    with store.read() as conn:
        for _ in range(radius):
            nxt: list[int] = []
            for node in frontier:
                query = select(graph_edges).where((e.src == node) | (e.dst == node))
                if since is not None:
                    query = query.where(e.last_seen >= since)
                if until is not None:
                    query = query.where(e.first_seen <= until)
                found = conn.execute(query.order_by(e.count.desc(), e.id).limit(per_node)).mappings()
                for row in found:
                    other = row["dst"] if row["src"] == node else row["src"]
                    if other not in seen:
                        if len(seen) >= limit:
                            continue
                        seen.add(other)
                        nxt.append(other)
                    edges[row["id"]] = dict(row)
            frontier = nxt
    rows = node_rows(store, seen)
    return {
        "center": node_public(center),
        "nodes": [node_public(rows[i]) for i in sorted(rows)],
        "edges": [edge_public(r) for r in edges.values() if r["src"] in seen and r["dst"] in seen],
    }


def shortest_path(view: GraphView, a: str, b: str) -> dict[str, Any]:
    """The shortest chain of edges (either direction) between two nodes, with each edge's evidence."""
    return path_between(view, resolve_node(view.store, a), resolve_node(view.store, b))


def path_between(view: GraphView, first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """``shortest_path`` between two node rows already resolved (``resolve_node``): the part that needs
    the loaded graph, which the server runs apart (``vigil.graph.isolation``)."""
    loaded = view.whole()
    for row in (first, second):
        if row["id"] not in loaded.index:
            raise UsageError(f"no node {row['key']!r} in the loaded graph")
    src, dst = loaded.index[first["id"]], loaded.index[second["id"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "couldn't reach some vertices": found False
        path = loaded.graph.get_shortest_path(src, dst, mode="all", output="vpath")
    if not path:
        return {
            "from": node_public(first),
            "to": node_public(second),
            "found": False,
            "hops": [],
            "nodes": [],
        }
    db_ids = [int(loaded.graph.vs[v]["db_id"]) for v in path]
    rows = node_rows(view.store, db_ids)
    hops = []
    for x, y in itertools.pairwise(db_ids):
        hops.append(
            {
                "from": rows[x]["key"],
                "to": rows[y]["key"],
                "edges": [edge_public(r) for r in edges_between(view.store, [(x, y)])],
            }
        )
    return {
        "from": node_public(first),
        "to": node_public(second),
        "found": True,
        "nodes": [node_public(rows[i]) for i in db_ids],
        "hops": hops,
    }
