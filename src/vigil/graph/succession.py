"""Domain succession: when an outlet's content appears on a new domain after its previous domain went
quiet (taken down, seized, abandoned), the old domain is ``succeeded-by`` the new one.

Inferred as the graph grows: each new ``domain part-of outlet`` edge is compared with the outlet's other
domains in order of first appearance; the one just before it is succeeded by it, unless it was still
active after the new one appeared (then both are live mirrors, not a succession). Explicit successions
(``meta.replaces``, ``vigil graph outlet succession``) are kept as given.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from vigil.graph.merge import edge_key
from vigil.graph.state import add_counts, next_version
from vigil.graph.tables import graph_edges, graph_nodes


def _partof_domains(conn: Connection, outlet_id: int) -> list[Any]:
    n = graph_nodes.c
    return list(
        conn.execute(
            select(
                graph_edges.c.src, graph_edges.c.first_seen, graph_edges.c.last_seen, graph_edges.c.evidence
            )
            .join(graph_nodes, n.id == graph_edges.c.src)
            .where(graph_edges.c.dst == outlet_id, graph_edges.c.kind == "part-of", n.kind == "domain")
            .where(graph_edges.c.first_seen.is_not(None))
            .order_by(graph_edges.c.first_seen, graph_edges.c.src)
        )
    )


def infer_successions(conn: Connection, new_edges: list[tuple[int, int, str]]) -> int:
    outlets = {dst for _, dst, kind in new_edges if kind == "part-of"}
    new_src = {(src, dst) for src, dst, kind in new_edges if kind == "part-of"}
    added = 0
    for outlet_id in sorted(outlets):
        kind = conn.execute(select(graph_nodes.c.kind).where(graph_nodes.c.id == outlet_id)).scalar()
        if kind != "outlet":
            continue
        domains = _partof_domains(conn, outlet_id)
        for before, after in itertools.pairwise(domains):
            if (after.src, outlet_id) not in new_src:
                continue
            if before.last_seen is not None and before.last_seen > after.first_seen:
                continue  # still live when the new one appeared: a mirror, not a successor
            if _has_successor_edge(conn, after.src):
                continue
            add_succession(
                conn, before.src, after.src, after.first_seen, list(after.evidence or [])[:1], outlet_id
            )
            added += 1
    return added


def _has_successor_edge(conn: Connection, domain_id: int) -> bool:
    return (
        conn.execute(
            select(graph_edges.c.id).where(
                graph_edges.c.dst == domain_id, graph_edges.c.kind == "succeeded-by"
            )
        ).first()
        is not None
    )


def add_succession(
    conn: Connection,
    old_id: int,
    new_id: int,
    at: datetime | None,
    evidence: list[str],
    outlet_id: int | None,
    inferred: bool = True,
) -> None:
    c = graph_edges.c
    exists = conn.execute(
        select(c.id).where(c.src == old_id, c.dst == new_id, c.kind == "succeeded-by")
    ).first()
    if exists:
        return
    conn.execute(
        graph_edges.insert().values(
            ekey=edge_key(old_id, new_id, "succeeded-by"),
            src=old_id,
            dst=new_id,
            kind="succeeded-by",
            first_seen=at,
            last_seen=at,
            count=max(1, len(evidence)),
            evidence=evidence,
            attrs={"inferred": inferred, "outlet_id": outlet_id},
            touched=next_version(conn),
        )
    )
    add_counts(conn, {}, {"succeeded-by": 1})
