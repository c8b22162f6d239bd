"""What the network view draws: a bounded subgraph filtered by node kind, community and time window,
and a node's details (its edges, the items behind them and their cases)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import or_, select

from vigil.errors import UsageError
from vigil.graph.communities import community_of
from vigil.graph.state import among
from vigil.graph.tables import graph_edges
from vigil.graph.view import GraphView, edge_public, node_public, node_rows
from vigil.store.schema import cases, items

MAX_NODES = 2000
EDGES_PER_NODE = (
    4  # at most this many edges per node drawn, the strongest (a browser draws thousands, not more)
)


def network(
    view: GraphView,
    kinds: tuple[str, ...] = (),
    community: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 300,
) -> dict[str, Any]:
    """The ``limit`` best-connected nodes matching the filters and the strongest edges among them
    (``edges_among`` says how many there are in all)."""
    if not 0 < limit <= MAX_NODES:
        raise UsageError(f"limit must be between 1 and {MAX_NODES}")
    loaded = view.whole()
    g = loaded.graph
    if g.vcount() == 0:
        return {"nodes": [], "edges": [], "communities": 0}
    members = community_of(view)
    degree = np.asarray(g.degree(mode="all"))
    mask = np.ones(g.vcount(), dtype=bool)
    if kinds:
        mask &= np.isin(np.asarray(g.vs["kind"]), list(kinds))
    db_ids = np.asarray(g.vs["db_id"])
    if community is not None:
        mask &= np.asarray([members.get(int(i), -1) == community for i in db_ids])
    chosen = np.flatnonzero(mask)
    chosen = chosen[np.argsort(-degree[chosen], kind="stable")]
    rows = node_rows(view.store, (int(db_ids[v]) for v in chosen[: limit * 3]))
    picked: list[int] = []
    for v in chosen[: limit * 3]:
        row = rows[int(db_ids[v])]
        if since is not None and row["last_seen"] is not None and row["last_seen"] < since:
            continue
        if until is not None and row["first_seen"] is not None and row["first_seen"] > until:
            continue
        picked.append(int(db_ids[v]))
        if len(picked) >= limit:
            break
    # The edges among the picked nodes, found in the loaded graph, then read by id.
    inside = np.zeros(g.vcount(), dtype=bool)
    inside[[loaded.index[i] for i in picked]] = True
    ends = loaded.ends
    among_ids = loaded.edge_ids[np.flatnonzero(inside[ends[:, 0]] & inside[ends[:, 1]])].tolist()
    e = graph_edges.c
    with view.store.read() as conn:
        query = select(graph_edges).where(among(conn, e.id, among_ids))
        if since is not None:
            query = query.where(or_(e.last_seen.is_(None), e.last_seen >= since))
        if until is not None:
            query = query.where(or_(e.first_seen.is_(None), e.first_seen <= until))
        strongest = query.order_by(e.count.desc(), e.id).limit(EDGES_PER_NODE * limit)
        edges = [edge_public(dict(found)) for found in conn.execute(strongest).mappings()]
    nodes = []
    for node_id in picked:
        public = node_public(rows[node_id])
        public["community"] = members.get(node_id)
        public["degree"] = int(degree[loaded.index[node_id]])
        nodes.append(public)
    return {
        "nodes": nodes,
        "edges": edges,
        "edges_among": len(among_ids),
        "communities": len(set(members.values())),
    }


def node_detail(view: GraphView, node_id: int, max_edges: int = 100, max_items: int = 50) -> dict[str, Any]:
    """A node, its strongest edges with evidence, the items behind them and the cases opened on them."""
    rows = node_rows(view.store, [node_id])
    if node_id not in rows:
        raise UsageError(f"no node {node_id}")
    e = graph_edges.c
    with view.store.read() as conn:
        edge_rows = [
            dict(r)
            for r in conn.execute(
                select(graph_edges)
                .where((e.src == node_id) | (e.dst == node_id))
                .order_by(e.count.desc(), e.id)
                .limit(max_edges)
            ).mappings()
        ]
        item_ids: list[str] = []
        for r in edge_rows:
            for i in r["evidence"] or []:
                if i not in item_ids:
                    item_ids.append(i)
        item_ids = item_ids[:max_items]
        found = {
            r["id"]: r
            for r in conn.execute(
                select(items.c.id, items.c.source, items.c.url, items.c.published).where(
                    items.c.id.in_(item_ids)
                )
            ).mappings()
        }
        case_rows = {
            r["item_id"]: r
            for r in conn.execute(
                select(cases.c.id, cases.c.item_id, cases.c.state, cases.c.severity).where(
                    cases.c.item_id.in_(item_ids)
                )
            ).mappings()
        }
    others = node_rows(view.store, {r["src"] for r in edge_rows} | {r["dst"] for r in edge_rows})
    return {
        "node": node_public(rows[node_id]),
        "edges": [
            {**edge_public(r), "src_label": others[r["src"]]["label"], "dst_label": others[r["dst"]]["label"]}
            for r in edge_rows
        ],
        "items": [
            {
                "id": i,
                "source": found[i]["source"],
                "url": found[i]["url"],
                "published": found[i]["published"],
                "case": (
                    {
                        "id": case_rows[i]["id"],
                        "state": case_rows[i]["state"],
                        "severity": case_rows[i]["severity"],
                    }
                    if i in case_rows
                    else None
                ),
            }
            for i in item_ids
            if i in found
        ],
    }
