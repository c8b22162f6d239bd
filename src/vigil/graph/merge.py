"""Merge extracted facts into the node and edge tables: new rows are inserted, known ones updated
(first/last seen widened, counts and counters added, evidence appended up to a cap)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, select

from vigil.graph.extract import Facts
from vigil.graph.facts import EdgeFact
from vigil.graph.state import among
from vigil.graph.tables import graph_edges, graph_nodes

if TYPE_CHECKING:
    from vigil.graph.update import UpdateResult

EVIDENCE_CAP = 20  # item ids kept per edge: the first and the latest half each; ``count`` has them all
CHUNK = 400


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
    ids: dict[str, int] = {}
    known: dict[str, Any] = {}
    for part in _chunks(keys):
        for row in conn.execute(select(graph_nodes).where(among(conn, graph_nodes.c.key, list(part)))).mappings():
            known[row["key"]] = row
    inserts, updates = [], []
    for key in keys:
        fact = facts.nodes[key]
        times = [t for t in facts.touched.get(key, []) if t is not None]
        first, last = (min(times), max(times)) if times else (None, None)
        n = len(facts.touched.get(key, []))
        row = known.get(key)
        if row is None:
            inserts.append(
                {
                    "key": key,
                    "kind": fact.kind,
                    "label": fact.label[:512],
                    "first_seen": first,
                    "last_seen": last,
                    "item_count": n,
                    "attrs": fact.attrs,
                }
            )
        else:
            ids[key] = row["id"]
            attrs = {**(row["attrs"] or {}), **fact.attrs}
            if n or attrs != (row["attrs"] or {}):
                updates.append(
                    {
                        "_id": row["id"],
                        "first_seen": _lo(row["first_seen"], first),
                        "last_seen": _hi(row["last_seen"], last),
                        "item_count": row["item_count"] + n,
                        "attrs": attrs,
                    }
                )
    if inserts:
        stmt = graph_nodes.insert().returning(graph_nodes.c.id, graph_nodes.c.key)
        for part in _chunks(inserts):
            for node_id, key in conn.execute(stmt, list(part)):
                ids[key] = node_id
        result.nodes_added += len(inserts)
    if updates:
        conn.execute(
            graph_nodes.update()
            .where(graph_nodes.c.id == bindparam("_id"))
            .values(
                first_seen=bindparam("first_seen"),
                last_seen=bindparam("last_seen"),
                item_count=bindparam("item_count"),
                attrs=bindparam("attrs"),
            ),
            updates,
        )
    return ids


def _group(edges: list[EdgeFact], ids: dict[str, int]) -> dict[tuple[int, int, str], dict[str, Any]]:
    merged: dict[tuple[int, int, str], dict[str, Any]] = {}
    for e in edges:
        key = (ids[e.src], ids[e.dst], e.kind)
        g = merged.get(key)
        if g is None:
            g = merged[key] = {"first": None, "last": None, "count": 0, "evidence": [], "attrs": {}}
        g["first"], g["last"] = _lo(g["first"], e.at), _hi(g["last"], e.at)
        g["count"] += 1
        if e.item_id:
            g["evidence"].append(e.item_id)
            if len(g["evidence"]) > 4 * EVIDENCE_CAP:
                g["evidence"] = cap_evidence(g["evidence"])
        g["attrs"] = add_counters(g["attrs"], {**e.counters, **e.attrs})
    return merged


def write_facts(conn: Connection, facts: Facts, result: UpdateResult) -> list[tuple[int, int, str]]:
    """Merge the facts; return the (src, dst, kind) of the edges that are new."""
    ids = write_nodes(conn, facts, result)
    merged = _group(facts.edges, ids)
    known: dict[tuple[int, int, str], Any] = {}
    triples = sorted(merged)
    c = graph_edges.c
    for part in _chunks(triples):
        keys = [edge_key(*t) for t in part]
        for row in conn.execute(select(graph_edges).where(among(conn, c.ekey, keys))).mappings():
            known[(row["src"], row["dst"], row["kind"])] = row
    inserts, updates = [], []
    for triple in triples:
        g = merged[triple]
        row = known.get(triple)
        if row is None:
            inserts.append(
                {
                    "ekey": edge_key(*triple),
                    "src": triple[0],
                    "dst": triple[1],
                    "kind": triple[2],
                    "first_seen": g["first"],
                    "last_seen": g["last"],
                    "count": g["count"],
                    "evidence": cap_evidence(g["evidence"]),
                    "attrs": g["attrs"],
                }
            )
        else:
            updates.append(
                {
                    "_id": row["id"],
                    "first_seen": _lo(row["first_seen"], g["first"]),
                    "last_seen": _hi(row["last_seen"], g["last"]),
                    "count": row["count"] + g["count"],
                    "evidence": cap_evidence(list(row["evidence"] or []) + g["evidence"]),
                    "attrs": add_counters(row["attrs"] or {}, g["attrs"]),
                }
            )
    for part in _chunks(inserts):
        conn.execute(graph_edges.insert(), list(part))
    if updates:
        conn.execute(
            graph_edges.update()
            .where(c.id == bindparam("_id"))
            .values(
                first_seen=bindparam("first_seen"),
                last_seen=bindparam("last_seen"),
                count=bindparam("count"),
                evidence=bindparam("evidence"),
                attrs=bindparam("attrs"),
            ),
            updates,
        )
    result.edges_added += len(inserts)
    result.edges_updated += len(updates)
    return [(r["src"], r["dst"], r["kind"]) for r in inserts]
