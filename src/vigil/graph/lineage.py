"""An outlet's domains over time: which domain replaced which, and when, and the takedowns on each (the
referred URLs on the domain that re-checks found removed, from ``vigil.referral``).

A domain's dates are those of its evidence (``vigil.graph.succession.spans``): the items on it attributed
to the outlet, or, for a domain without such items, the outlet's own links to it (``dated_by`` says
which); the order is the succession chain, then first appearance, and domains nothing dates come last.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from vigil.graph.outlets import find_outlet
from vigil.graph.succession import spans
from vigil.graph.tables import graph_edges
from vigil.referral.tables import watched_urls
from vigil.store import Store

MAX_TAKEDOWNS = 20


def lineage(store: Store, outlet: str) -> list[dict[str, Any]]:
    """The outlet's domains in order (succession chain first, then first appearance), with dates."""
    e = graph_edges.c
    with store.read() as conn:
        row = find_outlet(conn, outlet)
        domains = spans(conn, row["id"])
        succ = list(
            conn.execute(
                select(e.src, e.dst, e.first_seen, e.evidence, e.attrs).where(
                    e.kind == "succeeded-by", e.src.in_(list(domains)), e.dst.in_(list(domains))
                )
            )
        )
        removals = takedowns(conn, (d.label for d in domains.values()))
    after = {s.src: s for s in sorted(succ, key=lambda s: (s.first_seen is None, s.first_seen or 0, s.dst))}
    before = {s.dst: s for s in sorted(succ, key=lambda s: (s.first_seen is None, s.first_seen or 0, s.src))}

    def start_key(node_id: int) -> tuple[Any, ...]:
        d = domains[node_id]
        return (d.first is None, d.first or 0, d.label)

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
                "first_seen": d.first,
                "last_seen": d.last,
                "dated_by": d.dated_by,
                "items": d.items,
                "registered": d.registered,
                "removed_at": d.node_attrs.get("removed_at")
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
