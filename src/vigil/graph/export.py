"""Exports for Gephi and other tools: GEXF, GraphML (NetworkX writers) and JSON (node-link).

Every node carries node_key, kind, label, first_seen, last_seen, items; every edge kind, first_seen,
last_seen, count, evidence (space-separated item ids, capped) and evidence_count. Times are ISO 8601
strings ("" when unknown) because GEXF and GraphML attributes must be scalars.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import networkx as nx
from sqlalchemy import select

from vigil.errors import UsageError
from vigil.graph.tables import graph_edges, graph_nodes
from vigil.store import Store

FORMATS = ("gexf", "graphml", "json")


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def to_networkx(
    store: Store, node_kinds: Sequence[str] = (), edge_kinds: Sequence[str] = ()
) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    n, e = graph_nodes.c, graph_edges.c
    with store.read() as conn:
        query = select(n.id, n.key, n.kind, n.label, n.first_seen, n.last_seen, n.item_count).order_by(n.id)
        if node_kinds:
            query = query.where(n.kind.in_(list(node_kinds)))
        for row in conn.execute(query):
            g.add_node(
                str(row.id),
                node_key=row.key,
                kind=row.kind,
                label=row.label,
                first_seen=_iso(row.first_seen),
                last_seen=_iso(row.last_seen),
                items=int(row.item_count or 0),
            )
        equery = select(e.id, e.src, e.dst, e.kind, e.first_seen, e.last_seen, e.count, e.evidence).order_by(
            e.id
        )
        if edge_kinds:
            equery = equery.where(e.kind.in_(list(edge_kinds)))
        for erow in conn.execute(equery).mappings():
            s, d = str(erow["src"]), str(erow["dst"])
            if s not in g or d not in g:
                continue
            evidence = list(erow["evidence"] or [])
            g.add_edge(
                s,
                d,
                key=str(erow["id"]),
                id=str(erow["id"]),
                kind=erow["kind"],
                first_seen=_iso(erow["first_seen"]),
                last_seen=_iso(erow["last_seen"]),
                count=int(erow["count"] or 0),
                evidence=" ".join(evidence),
                evidence_count=len(evidence),
            )
    return g


def write_export(g: nx.MultiDiGraph, fmt: str, out: IO[bytes]) -> None:
    if fmt == "gexf":
        nx.write_gexf(g, out)
    elif fmt == "graphml":
        nx.write_graphml(g, out)
    elif fmt == "json":
        data: dict[str, Any] = nx.node_link_data(g, edges="links")
        out.write(json.dumps(data, ensure_ascii=False).encode("utf-8"))
    else:
        raise UsageError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")


def export_file(store: Store, fmt: str, path: Path, **filters: Any) -> dict[str, Any]:
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")
    g = to_networkx(store, **filters)
    tmp = path.with_name(path.name + ".part")
    with tmp.open("wb") as fh:
        write_export(g, fmt, fh)
    tmp.replace(path)
    return {"format": fmt, "path": str(path), "nodes": g.number_of_nodes(), "edges": g.number_of_edges()}
