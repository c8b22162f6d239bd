"""Spreaders: accounts that forward many outlets' releases, quickly.

From the ``forwarded-from`` edges out of accounts: which outlets each forwarded (by the attribution of the
forwarded items, and by the outlet the source channel belongs to), how often, and how soon after the
original (``meta.forwarded_date`` on the item, where the source gives it).
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import select

from vigil.graph.state import cached
from vigil.graph.tables import graph_edges, graph_nodes
from vigil.graph.view import node_public, node_rows
from vigil.store import Store


def _venue_outlets(store: Store) -> dict[int, set[str]]:
    e, n = graph_edges.c, graph_nodes.c
    with store.read() as conn:
        rows = conn.execute(
            select(e.src, n.label)
            .join(graph_nodes, n.id == e.dst)
            .where(e.kind.in_(["part-of", "mirrors"]), n.kind == "outlet")
        )
        out: dict[int, set[str]] = {}
        for src, label in rows:
            out.setdefault(src, set()).add(label.casefold())
    return out


def _compute(store: Store) -> list[dict[str, Any]]:
    e, n = graph_edges.c, graph_nodes.c
    by_venue = _venue_outlets(store)
    acc: dict[int, dict[str, Any]] = {}
    with store.read() as conn:
        rows = conn.execute(
            select(e.src, e.dst, e.count, e.attrs)
            .join(graph_nodes, n.id == e.src)
            .where(e.kind == "forwarded-from", n.kind == "account")
        )
        for src, dst, count, attrs in rows:
            attrs = attrs or {}
            a = acc.setdefault(src, {"forwards": 0, "outlets": set(), "delay_s": 0.0, "delay_n": 0.0})
            a["forwards"] += int(count or 0)
            a["outlets"].update((attrs.get("outlets") or {}).keys())
            a["outlets"].update(by_venue.get(dst, ()))
            a["delay_s"] += float(attrs.get("delay_s") or 0)
            a["delay_n"] += float(attrs.get("delay_n") or 0)
    out = []
    for node_id, a in acc.items():
        if not a["outlets"]:
            continue
        hours = a["delay_s"] / a["delay_n"] / 3600 if a["delay_n"] else None
        speed = 1.0 / (1.0 + hours) if hours is not None else 0.5
        score = len(a["outlets"]) * math.log1p(a["forwards"]) * speed
        out.append(
            {
                "node_id": node_id,
                "score": score,
                "forwards": a["forwards"],
                "outlets": sorted(a["outlets"]),
                "mean_delay_h": hours,
            }
        )
    out.sort(key=lambda r: (-r["score"], r["node_id"]))
    return out


def spreaders(store: Store, top: int = 20) -> list[dict[str, Any]]:
    ranked = cached(store, "spreaders", lambda: _compute(store))[:top]
    rows = node_rows(store, (r["node_id"] for r in ranked))
    out = []
    for rank, r in enumerate(ranked, 1):
        delay = (
            f"on average {r['mean_delay_h']:.1f} h after the original"
            if r["mean_delay_h"] is not None
            else "delay unknown (the source gives no original date)"
        )
        out.append(
            {
                "rank": rank,
                "role": "spreader",
                "score": round(r["score"], 4),
                **node_public(rows[r["node_id"]]),
                "metrics": {
                    "forwards": r["forwards"],
                    "outlets": r["outlets"],
                    "mean_delay_h": r["mean_delay_h"],
                },
                "reasons": [
                    f"forwarded {r['forwards']} items of {len(r['outlets'])} outlets "
                    f"({', '.join(r['outlets'][:5])})",
                    delay,
                ],
            }
        )
    return out
