"""Merge extracted facts into the node and edge tables: new rows are inserted, known ones updated
(first/last seen widened, counts and counters added, evidence appended up to a cap)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from vigil.graph.bulk import bulk_insert, bulk_update
from vigil.graph.extract import Facts
from vigil.graph.facts import EdgeFact
from vigil.graph.state import add_counts, among, next_version
from vigil.graph.tables import graph_edges, graph_nodes

if TYPE_CHECKING:
    from vigil.graph.update import UpdateResult

EVIDENCE_CAP = 20  # item ids kept per edge: the first and the latest half each; ``count`` has them all
CHUNK = 20_000  # keys per lookup (one parameter each, see ``among``) and rows per insert


NODE_COLUMNS = {
    "key": "text",
    "kind": "text",
    "label": "text",
    "first_seen": "timestamptz",
    "last_seen": "timestamptz",
    "item_count": "int",
    "attrs": "jsonb",
    "touched": "int",
}
EDGE_COLUMNS = {
    "ekey": "text",
    "src": "int",
    "dst": "int",
    "kind": "text",
    "first_seen": "timestamptz",
    "last_seen": "timestamptz",
    "count": "int",
    "evidence": "jsonb",
    "attrs": "jsonb",
    "touched": "int",
}


def edge_key(src: int, dst: int, kind: str) -> str:
    return f"{src} {dst} {kind}"


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _lo(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _hi(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def cap_evidence(ids: list[str]) -> list[str]:
    if len(ids) <= EVIDENCE_CAP:
        return ids
    half = EVIDENCE_CAP // 2
    return ids[:half] + ids[-half:]


def add_counters(attrs: dict[str, Any], counters: dict[str, Any]) -> dict[str, Any]:
    out = dict(attrs)
    for key, value in counters.items():
        if isinstance(value, dict):
            sub = dict(out.get(key) or {})
            for k, v in value.items():
                sub[k] = sub.get(k, 0) + v
            out[key] = sub
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = out.get(key, 0) + value
        else:
            out[key] = value
    return out


def write_nodes(conn: Connection, facts: Facts, result: UpdateResult) -> dict[str, int]:
    keys = sorted(facts.nodes)
    stamp = next_version(conn)
    ids: dict[str, int] = {}
    known: dict[str, Any] = {}
    for part in _chunks(keys):
        c = graph_nodes.c
        for row in conn.execute(
            select(c.id, c.key, c.first_seen, c.last_seen, c.item_count, c.attrs).where(
                among(conn, c.key, list(part))
            )
        ).mappings():
            known[row["key"]] = row
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for key in keys:
        fact = facts.nodes[key]
        first, last, n = facts.touched.get(key) or (None, None, 0)
        old = known.get(key)
        if old is None:
            inserts.append(
                {
                    "key": key,
                    "kind": fact.kind,
                    "label": fact.label[:512],
                    "first_seen": first,
                    "last_seen": last,
                    "item_count": n,
                    "attrs": fact.attrs,
                    "touched": stamp,
                }
            )
        else:
            ids[key] = old["id"]
            attrs = {**(old["attrs"] or {}), **fact.attrs}
            if n or attrs != (old["attrs"] or {}):
                updates.append(
                    {
                        "_id": old["id"],
                        "first_seen": _lo(old["first_seen"], first),
                        "last_seen": _hi(old["last_seen"], last),
                        "item_count": old["item_count"] + n,
                        "attrs": attrs,
                        "touched": stamp,
                    }
                )
    if inserts:
        bulk_insert(conn, graph_nodes, inserts, NODE_COLUMNS)
        c = graph_nodes.c
        for part in _chunks([r["key"] for r in inserts]):
            found = conn.execute(select(c.key, c.id).where(among(conn, c.key, list(part))))
            ids.update((key, node_id) for key, node_id in found)  # a Result has keys(): not a mapping
        result.nodes_added += len(inserts)
        add_counts(conn, dict(Counter(r["kind"] for r in inserts)), {})
    bulk_update(
        conn,
        graph_nodes,
        updates,
        {
            "first_seen": "timestamptz",
            "last_seen": "timestamptz",
            "item_count": "int",
            "attrs": "jsonb",
            "touched": "int",
        },
    )
    return ids


def _group(edges: list[EdgeFact], ids: dict[str, int]) -> dict[tuple[int, int, str], list[Any]]:
    """The batch's edge facts merged per (src, dst, kind): [first, last, count, evidence, attrs]."""
    merged: dict[tuple[int, int, str], list[Any]] = {}
    cap = 4 * EVIDENCE_CAP
    for e in edges:
        key = (ids[e.src], ids[e.dst], e.kind)
        at = e.at
        g = merged.get(key)
        if g is None:
            g = merged[key] = [at, at, 1, [e.item_id] if e.item_id else [], {}]
        else:
            if at is not None:
                if g[0] is None or at < g[0]:
                    g[0] = at
                if g[1] is None or at > g[1]:
                    g[1] = at
            g[2] += 1
            if e.item_id:
                g[3].append(e.item_id)
                if len(g[3]) > cap:
                    g[3] = cap_evidence(g[3])
        if e.counters:
            _fold(g[4], e.counters)
        if e.attrs:
            _fold(g[4], e.attrs)
    return merged


def _fold(into: dict[str, Any], counters: dict[str, Any]) -> None:
    """``add_counters`` in place, for one batch's own accumulator (nested dicts are the batch's own)."""
    for key, value in counters.items():
        if isinstance(value, dict):
            sub = into.get(key)
            if not isinstance(sub, dict):
                sub = into[key] = {}
            for k, v in value.items():
                sub[k] = sub.get(k, 0) + v
        elif isinstance(value, int | float) and not isinstance(value, bool):
            into[key] = into.get(key, 0) + value
        else:
            into[key] = value


def write_facts(conn: Connection, facts: Facts, result: UpdateResult) -> list[tuple[int, int, str]]:
    """Merge the facts; return the (src, dst, kind) of every edge written, new or changed."""
    ids = write_nodes(conn, facts, result)
    stamp = next_version(conn)
    merged = _group(facts.edges, ids)
    known: dict[tuple[int, int, str], Any] = {}
    triples = sorted(merged)
    c = graph_edges.c
    for part in _chunks(triples):
        keys = [edge_key(*t) for t in part]
        query = select(c.id, c.src, c.dst, c.kind, c.first_seen, c.last_seen, c.count, c.evidence, c.attrs)
        for found in conn.execute(query.where(among(conn, c.ekey, keys))).mappings():
            known[(found["src"], found["dst"], found["kind"])] = found
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for triple in triples:
        first, last, n, evidence, attrs = merged[triple]
        old = known.get(triple)
        if old is None:
            inserts.append(
                {
                    "ekey": edge_key(*triple),
                    "src": triple[0],
                    "dst": triple[1],
                    "kind": triple[2],
                    "first_seen": first,
                    "last_seen": last,
                    "count": n,
                    "evidence": cap_evidence(evidence),
                    "attrs": attrs,
                    "touched": stamp,
                }
            )
        else:
            updates.append(
                {
                    "_id": old["id"],
                    "first_seen": _lo(old["first_seen"], first),
                    "last_seen": _hi(old["last_seen"], last),
                    "count": old["count"] + n,
                    "evidence": cap_evidence(list(old["evidence"] or []) + evidence),
                    "attrs": add_counters(old["attrs"] or {}, attrs) if attrs else (old["attrs"] or {}),
                    "touched": stamp,
                }
            )
    bulk_insert(conn, graph_edges, inserts, EDGE_COLUMNS)
    bulk_update(
        conn,
        graph_edges,
        updates,
        {
            "first_seen": "timestamptz",
            "last_seen": "timestamptz",
            "count": "int",
            "evidence": "jsonb",
            "attrs": "jsonb",
            "touched": "int",
        },
    )
    result.edges_added += len(inserts)
    if inserts:
        add_counts(conn, {}, dict(Counter(r["kind"] for r in inserts)))
    result.edges_updated += len(updates)
    return triples
