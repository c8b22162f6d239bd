"""An outlet's domains over time: which domain replaced which, and when, and the takedowns on each (the
referred URLs on the domain that re-checks found removed, from ``vigil.referral``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from vigil.graph.outlets import find_outlet
from vigil.graph.tables import graph_edges, graph_nodes
from vigil.referral.tables import watched_urls
from vigil.store import Store

MAX_TAKEDOWNS = 20


def lineage(store: Store, outlet: str) -> list[dict[str, Any]]:
    """The outlet's domains in order (succession chain first, then first appearance), with dates."""
    e, n = graph_edges.c, graph_nodes.c
    with store.read() as conn:
        row = find_outlet(conn, outlet)
        domains = {
            r.id: r
            for r in conn.execute(
                select(
                    n.id, n.label, n.attrs, e.first_seen, e.last_seen, e.count, e.attrs.label("edge_attrs")
                )
                .join(graph_edges, e.src == n.id)
                .where(e.dst == row["id"], e.kind == "part-of", n.kind == "domain")
            )
        }
        succ = list(
            conn.execute(
                select(e.src, e.dst, e.first_seen, e.evidence, e.attrs).where(
                    e.kind == "succeeded-by", e.src.in_(list(domains)), e.dst.in_(list(domains))
                )
            )
        )
        removals = takedowns(conn, (d.label for d in domains.values()))
    after = {s.src: s for s in succ}
    before = {s.dst: s for s in succ}

    def start_key(node_id: int) -> tuple[Any, ...]:
        d = domains[node_id]
        return (d.first_seen is None, d.first_seen or 0, d.label)

    order: list[int] = []
    for head in sorted((d for d in domains if d not in before), key=start_key):
        node: int | None = head
        while node is not None and node not in order:
            order.append(node)
            node = after[node].dst if node in after else None
    order.extend(sorted((d for d in domains if d not in order), key=start_key))
    out = []
    for step, node_id in enumerate(order, 1):
        d = domains[node_id]
        prev = before.get(node_id)
        removed = removals.get(d.label, [])
        out.append(
            {
                "step": step,
                "domain": d.label,
                "first_seen": d.first_seen,
                "last_seen": d.last_seen,
                "items": d.count,
                "registered": bool((d.edge_attrs or {}).get("registered")),
                "removed_at": (d.attrs or {}).get("removed_at")
                or (removed[0]["removed_at"] if removed else None),
                "takedowns": removed[:MAX_TAKEDOWNS],
                "replaces": domains[prev.src].label if prev is not None else None,
                "replaced_at": prev.first_seen if prev is not None else None,
                "inferred": bool((prev.attrs or {}).get("inferred")) if prev is not None else None,
                "evidence": list(prev.evidence or []) if prev is not None else [],
                "replaced_by": domains[after[node_id].dst].label if node_id in after else None,
            }
        )
    return out


def takedowns(conn: Connection, domains: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Domain -> the referred URLs on it (or on its www. host) found removed, earliest first."""
    host_of = {}
    for d in domains:
        host_of[d] = host_of["www." + d] = d
    if not host_of:
        return {}
    w = watched_urls.c
    rows = conn.execute(
        select(w.host, w.url, w.case_id, w.removed_at, w.status)
        .where(w.host.in_(list(host_of)), w.removed_at.is_not(None))
        .order_by(w.removed_at, w.id)
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for host, url, case_id, removed_at, status in rows:
        out.setdefault(host_of[host], []).append(
            {"url": url, "case_id": case_id, "removed_at": removed_at, "status": status}
        )
    return out
