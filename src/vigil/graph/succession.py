"""Domain succession: when an outlet's content appears on a new domain after its previous domain went
quiet (taken down, seized, abandoned), the old domain is ``succeeded-by`` the new one.

**What the inference looks at.** All of an outlet's domains (``domain part-of outlet``: attributed or
registered with ``vigil graph outlet add --domain``), each with the span of its evidence (``spans``): the
first and last item on the domain attributed to the outlet (the ``part-of`` edge's dates), or, for a
domain with no such item (registered, never crawled), the first and last of the outlet's own links to it
(``links-to`` edges from the outlet's venues, its channels and domains, to the domain). Domains with no
dated evidence at all are left out. In order of first appearance, each domain is succeeded by the next,
unless it was still active after the next appeared (both live: mirrors, not a succession). Explicit
successions (``meta.replaces``, ``vigil graph outlet succession``) are kept as given and take precedence:
a domain with an explicit predecessor or successor gets no inferred one on that side.

**Whatever order the data came in.** The inferred successions of an outlet are a function of that
evidence alone: every write that changes an outlet's evidence (``affected_outlets``: a ``part-of`` edge
to it, an own link between its venues and its domains, an explicit succession on one of its domains)
reconciles the outlet's inferred edges with what the evidence says now (``reconcile``): the missing are
added, those whose successor turned out to appear earlier are re-dated, and those that later evidence
contradicts (an archive of a domain in between, or showing the old domain live later) are removed, the
removal recorded (``state.mark_removed``) so that loaded graphs load whole. So a late archive, a
registration before or after the items, and any split of the data into batches give the same lineage.

**Cost.** Per batch, one indexed lookup for the outlets its ``part-of``, ``links-to`` and explicit
``succeeded-by`` edges touch (``part-of`` edges by source, as many keys as the batch has link ends), then
per outlet affected: its ``part-of`` edges (by destination), its own links (one lookup by edge key per
venue × domain pair) and the successions among its domains (by source): proportional to the outlets the
batch touches and their venues × domains, never to the whole store.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from vigil.graph.merge import edge_key
from vigil.graph.state import add_counts, among, mark_removed, next_version
from vigil.graph.tables import graph_edges, graph_nodes

CHUNK = 5_000  # keys per lookup


@dataclass(slots=True)
class Span:
    """One of an outlet's domains with the span of its evidence (``dated_by``: ``items`` on it, the
    outlet's own ``links`` to it, or None when nothing dates it)."""

    node_id: int
    label: str
    first: datetime | None = None
    last: datetime | None = None
    evidence: list[str] = field(default_factory=list)  # the items behind ``first`` (at most one)
    dated_by: str | None = None
    items: int = 0  # the items on it attributed to the outlet (the ``part-of`` edge's count)
    registered: bool = False
    node_attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Reconciled:
    added: int = 0
    removed: int = 0
    redated: int = 0


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _inferred(attrs: Any) -> bool:
    return bool((attrs or {}).get("inferred")) if isinstance(attrs, dict) else False


def _lo(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _hi(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def spans(conn: Connection, outlet_id: int) -> dict[int, Span]:
    """The outlet's domains (node id -> ``Span``), dated by the items on them or by the outlet's links."""
    return spans_of(conn, [outlet_id]).get(outlet_id, {})


def spans_of(conn: Connection, outlet_ids: Sequence[int]) -> dict[int, dict[int, Span]]:
    """``spans`` of several outlets in a few statements: outlet id -> its domains' spans."""
    e, n = graph_edges.c, graph_nodes.c
    query = (
        select(
            e.src,
            e.dst,
            e.first_seen,
            e.last_seen,
            e.count,
            e.evidence,
            e.attrs,
            n.kind,
            n.label,
            n.attrs.label("node_attrs"),
        )
        .join(graph_nodes, n.id == e.src)
        .where(e.kind == "part-of")
    )
    rows = [
        r
        for part in _chunks(sorted(set(outlet_ids)))
        for r in conn.execute(query.where(among(conn, e.dst, list(part)))).mappings()
    ]
    venues: dict[int, list[int]] = {}
    out: dict[int, dict[int, Span]] = {outlet: {} for outlet in outlet_ids}
    for r in rows:
        venues.setdefault(r["dst"], []).append(r["src"])
        if r["kind"] != "domain":
            continue
        attrs, node_attrs = r["attrs"], r["node_attrs"]
        span = out[r["dst"]][r["src"]] = Span(
            r["src"],
            r["label"],
            items=int(r["count"] or 0),
            registered=bool(attrs.get("registered")) if isinstance(attrs, dict) else False,
            node_attrs=dict(node_attrs) if isinstance(node_attrs, dict) else {},
        )
        if r["first_seen"] is not None:
            span.first, span.last = r["first_seen"], _hi(r["first_seen"], r["last_seen"])
            span.dated_by, span.evidence = "items", _first_item(r["evidence"])
    # The domains nothing on them dates: by the outlet's own links (venue -> domain), looked up by key.
    wanted: dict[str, list[Span]] = {}
    for outlet, domains in out.items():
        for d, span in domains.items():
            if span.dated_by is None:
                for v in venues.get(outlet, []):
                    if v != d:
                        wanted.setdefault(edge_key(v, d, "links-to"), []).append(span)
    for part in _chunks(sorted(wanted)):
        links = conn.execute(
            select(e.ekey, e.first_seen, e.last_seen, e.evidence).where(among(conn, e.ekey, list(part)))
        ).mappings()
        for link in links:
            if link["first_seen"] is None:
                continue
            for span in wanted[link["ekey"]]:
                if span.first is None or link["first_seen"] < span.first:
                    span.evidence = _first_item(link["evidence"])
                span.first = _lo(span.first, link["first_seen"])
                span.last = _hi(span.last, _hi(link["first_seen"], link["last_seen"]))
                span.dated_by = "links"
    return out


def _first_item(evidence: Any) -> list[str]:
    return [x for x in (evidence if isinstance(evidence, list) else [])[:1] if isinstance(x, str)]


def affected_outlets(conn: Connection, written: Sequence[tuple[int, int, str]]) -> set[int]:
    """The outlets whose domain evidence the written edges (src, dst, kind) change."""
    outlets = {dst for _, dst, kind in written if kind == "part-of"}
    pairs = [(src, dst, kind) for src, dst, kind in written if kind in ("links-to", "succeeded-by")]
    ends = sorted({x for src, dst, _ in pairs for x in (src, dst)})
    owners: dict[int, set[int]] = {}
    e = graph_edges.c
    for part in _chunks(ends):
        for src, dst in conn.execute(
            select(e.src, e.dst).where(among(conn, e.src, list(part)), e.kind == "part-of")
        ):
            owners.setdefault(src, set()).add(dst)
    for src, dst, kind in pairs:
        mine, theirs = owners.get(src, set()), owners.get(dst, set())
        # A link counts where it goes from an outlet's venue to its domain; an explicit succession
        # matters to the outlets of either end.
        outlets |= (mine & theirs) if kind == "links-to" else (mine | theirs)
    if not outlets:
        return set()
    n = graph_nodes.c
    found = conn.execute(select(n.id).where(among(conn, n.id, sorted(outlets)), n.kind == "outlet"))
    return set(found.scalars())


def infer_successions(conn: Connection, written: Sequence[tuple[int, int, str]]) -> Reconciled:
    """Reconcile the inferred successions of every outlet the written edges touch."""
    return reconcile_all(conn, sorted(affected_outlets(conn, written)))


def reconcile(conn: Connection, outlet_id: int) -> Reconciled:
    """Bring the outlet's inferred successions to what its domains' evidence says now."""
    return reconcile_all(conn, [outlet_id])


def reconcile_all(conn: Connection, outlet_ids: Sequence[int]) -> Reconciled:
    """``reconcile`` for several outlets: their spans and successions read in a few statements."""
    done = Reconciled()
    if not outlet_ids:
        return done
    every = spans_of(conn, outlet_ids)
    e = graph_edges.c
    ids = sorted({d for domains in every.values() for d in domains})
    successions = [
        r
        for part in _chunks(ids)
        for r in conn.execute(
            select(e.id, e.src, e.dst, e.first_seen, e.evidence, e.attrs).where(
                among(conn, e.src, list(part)), e.kind == "succeeded-by"
            )
        )
    ]
    stale: list[int] = []
    for outlet_id in outlet_ids:
        domains = every.get(outlet_id, {})
        existing = [r for r in successions if r.src in domains and r.dst in domains]
        stale.extend(_reconcile_one(conn, outlet_id, domains, existing, done))
    if stale:
        conn.execute(graph_edges.delete().where(e.id.in_(stale)))
        add_counts(conn, {}, {"succeeded-by": -len(stale)})
        mark_removed(conn)
        done.removed = len(stale)
    return done


def _reconcile_one(
    conn: Connection, outlet_id: int, domains: dict[int, Span], existing: list[Any], done: Reconciled
) -> list[int]:
    """Add and re-date the outlet's inferred successions; return the ids of those to remove."""
    explicit_after = {r.src for r in existing if not _inferred(r.attrs)}
    explicit_before = {r.dst for r in existing if not _inferred(r.attrs)}
    taken = {(r.src, r.dst) for r in existing}
    mine = {
        (r.src, r.dst): r for r in existing if _inferred(r.attrs) and r.attrs.get("outlet_id") == outlet_id
    }
    dated = sorted((s for s in domains.values() if s.first is not None), key=lambda s: (s.first, s.label))
    wanted: dict[tuple[int, int], Span] = {}
    for before, after in itertools.pairwise(dated):
        assert after.first is not None
        if before.last is not None and before.last > after.first:
            continue  # still live when the next one appeared: a mirror, not a successor
        if before.node_id in explicit_after or after.node_id in explicit_before:
            continue  # an explicit succession says otherwise
        wanted[(before.node_id, after.node_id)] = after
    e = graph_edges.c
    for (old, new), after in wanted.items():
        held = mine.get((old, new))
        if held is not None:
            if held.first_seen != after.first or list(held.evidence or []) != after.evidence:
                conn.execute(
                    graph_edges.update()
                    .where(e.id == held.id)
                    .values(
                        first_seen=after.first,
                        last_seen=after.first,
                        evidence=after.evidence,
                        count=max(1, len(after.evidence)),
                        touched=next_version(conn),
                    )
                )
                done.redated += 1
        elif (old, new) not in taken and add_succession(
            conn, old, new, after.first, after.evidence, outlet_id
        ):
            done.added += 1
    return [r.id for pair, r in mine.items() if pair not in wanted]


def add_succession(
    conn: Connection,
    old_id: int,
    new_id: int,
    at: datetime | None,
    evidence: list[str],
    outlet_id: int | None,
    inferred: bool = True,
) -> bool:
    """Add ``old succeeded-by new`` unless there is one already (then False)."""
    c = graph_edges.c
    exists = conn.execute(
        select(c.id).where(c.src == old_id, c.dst == new_id, c.kind == "succeeded-by")
    ).first()
    if exists:
        return False
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
    return True
