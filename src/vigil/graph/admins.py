"""Likely administrators of an outlet: accounts that originate its releases rather than forward them,
that its channels and mirrors forward from, and that post in the channels it owns.

Computed on the outlet's neighbourhood only (its venues and the edges into and out of them), so it stays
fast however big the graph is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from vigil.graph.outlets import find_outlet, venues
from vigil.graph.tables import graph_edges
from vigil.graph.view import node_public, node_rows
from vigil.store import Store


@dataclass(slots=True)
class AdminEvidence:
    originated: int = 0  # the outlet's releases this account posted first-hand
    relayed: int = 0  # the outlet's releases it forwarded from someone else
    forwarded_by: int = 0  # forwards of its posts by the outlet's channels and mirrors
    forwarding_venues: set[int] = field(default_factory=set)
    owned_venues: set[int] = field(default_factory=set)  # outlet's own channels it originated in
    first_post: datetime | None = None
    evidence: list[str] = field(default_factory=list)

    def score(self) -> float:
        source = self.originated + self.forwarded_by
        if source == 0:
            return 0.0
        strength = (
            math.log1p(self.originated)
            + math.log1p(self.forwarded_by)
            + math.log1p(len(self.forwarding_venues))
            + len(self.owned_venues)
        )
        return strength * source / (source + self.relayed)


def administrators(store: Store, outlet: str, top: int = 20) -> list[dict[str, Any]]:
    e = graph_edges.c
    with store.read() as conn:
        row = find_outlet(conn, outlet)
        name = row["label"].casefold()
        places = venues(conn, row["id"])
        ids = list(places)
        found: dict[int, AdminEvidence] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            for src, dst, attrs, first, ev in conn.execute(
                select(e.src, e.dst, e.attrs, e.first_seen, e.evidence).where(
                    e.dst.in_(part), e.kind == "posted"
                )
            ):
                attrs = attrs or {}
                orig = int((attrs.get("outlet_originals") or {}).get(name, 0))
                fwd = int((attrs.get("outlet_forwards") or {}).get(name, 0))
                if not orig and not fwd:
                    continue
                a = found.setdefault(src, AdminEvidence())
                a.originated += orig
                a.relayed += fwd
                if orig:
                    if places[dst] == "part-of":
                        a.owned_venues.add(dst)
                    a.first_post = (
                        first if a.first_post is None or (first and first < a.first_post) else a.first_post
                    )
                    a.evidence.extend((ev or [])[:3])
            for src, dst, count, ev in conn.execute(
                select(e.src, e.dst, e.count, e.evidence).where(e.src.in_(part), e.kind == "forwarded-from")
            ):
                a = found.setdefault(dst, AdminEvidence())
                a.forwarded_by += int(count or 0)
                a.forwarding_venues.add(src)
                a.evidence.extend((ev or [])[:1])
    rows = node_rows(store, found)
    ranked = sorted(
        ((node_id, ev) for node_id, ev in found.items() if rows.get(node_id, {}).get("kind") == "account"),
        key=lambda pair: (-pair[1].score(), rows[pair[0]]["key"]),
    )
    out = []
    for rank, (node_id, ev) in enumerate(ranked[:top], 1):
        if ev.score() <= 0:
            break
        out.append(
            {
                "rank": rank,
                "role": "likely-administrator",
                "outlet": row["label"],
                "score": round(ev.score(), 4),
                **node_public(rows[node_id]),
                "metrics": {
                    "originated": ev.originated,
                    "relayed": ev.relayed,
                    "forwarded_by": ev.forwarded_by,
                    "forwarding_venues": len(ev.forwarding_venues),
                    "owned_venues": len(ev.owned_venues),
                    "first_post": ev.first_post,
                },
                "reasons": _reasons(ev, len(places)),
                "evidence": ev.evidence[:10],
            }
        )
    return out


def _reasons(ev: AdminEvidence, n_venues: int) -> list[str]:
    out = []
    if ev.originated:
        out.append(f"originated {ev.originated} of the outlet's items (posted first-hand, not forwarded)")
    if ev.forwarded_by:
        out.append(
            f"forwarded from {ev.forwarded_by} times by {len(ev.forwarding_venues)} of the outlet's "
            f"{n_venues} channels and sites: it is where they take releases from"
        )
    if ev.owned_venues:
        out.append(f"posts originals in {len(ev.owned_venues)} of the outlet's own channels (controls them)")
    if ev.relayed:
        out.append(f"also relayed {ev.relayed} of the outlet's items from others (lowers the score)")
    if ev.first_post:
        out.append(f"first original post {ev.first_post.isoformat()}")
    return out
