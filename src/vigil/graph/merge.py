"""Merge extracted facts into the node and edge tables: new rows are inserted, known ones updated
(first/last seen widened, counts and counters added, evidence appended up to a cap)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, select, text

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


def bulk_update(conn: Connection, table: Any, rows: list[dict[str, Any]], columns: dict[str, str]) -> None:
    """Update rows by ``_id``: one ``UPDATE ... FROM unnest(arrays)`` per chunk on PostgreSQL (a round trip
    per row is what makes a batch slow there), an executemany elsewhere."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        stmt = table.update().where(table.c.id == bindparam("_id"))
        conn.execute(stmt.values({name: bindparam(name) for name in columns}), rows)
        return
    names = list(columns)
    sets = ", ".join(f'"{n}" = v."{n}"' for n in names)
    arrays = ", ".join(
        f"CAST(:{n} AS text[])::jsonb[]" if t == "jsonb" else f"CAST(:{n} AS {t}[])"
        for n, t in columns.items()
    )
    sql = text(
        f"UPDATE {table.name} AS t SET {sets} FROM unnest(CAST(:_id AS int[]), {arrays}) "
        f"AS v(_id, {', '.join(chr(34) + n + chr(34) for n in names)}) WHERE t.id = v._id"
    )
    for start in range(0, len(rows), 5000):
        part = rows[start : start + 5000]
        params: dict[str, Any] = {"_id": [r["_id"] for r in part]}
        for n, t in columns.items():
            if t == "jsonb":
                params[n] = [json.dumps(r[n], ensure_ascii=False) for r in part]
            elif t == "timestamptz":
                params[n] = [_aware(r[n]) for r in part]
            else:
                params[n] = [r[n] for r in part]
        conn.execute(sql, params)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


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
        for found in conn.execute(
            select(graph_nodes).where(among(conn, graph_nodes.c.key, list(part)))
        ).mappings():
            known[found["key"]] = found
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for key in keys:
        fact = facts.nodes[key]
        times = [t for t in facts.touched.get(key, []) if t is not None]
        first, last = (min(times), max(times)) if times else (None, None)
        n = len(facts.touched.get(key, []))
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
                    }
                )
    if inserts:
        stmt = graph_nodes.insert().returning(graph_nodes.c.id, graph_nodes.c.key)
        for part in _chunks(inserts):
            for node_id, key in conn.execute(stmt, list(part)):
                ids[key] = node_id
        result.nodes_added += len(inserts)
    bulk_update(
        conn,
        graph_nodes,
        updates,
        {"first_seen": "timestamptz", "last_seen": "timestamptz", "item_count": "int", "attrs": "jsonb"},
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
        for found in conn.execute(select(graph_edges).where(among(conn, c.ekey, keys))).mappings():
            known[(found["src"], found["dst"], found["kind"])] = found
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for triple in triples:
        g = merged[triple]
        old = known.get(triple)
        if old is None:
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
                    "_id": old["id"],
                    "first_seen": _lo(old["first_seen"], g["first"]),
                    "last_seen": _hi(old["last_seen"], g["last"]),
                    "count": old["count"] + g["count"],
                    "evidence": cap_evidence(list(old["evidence"] or []) + g["evidence"]),
                    "attrs": add_counters(old["attrs"] or {}, g["attrs"]),
                }
            )
    for part in _chunks(inserts):
        # RETURNING makes SQLAlchemy batch the rows into multi-row VALUES (insertmanyvalues) on every backend.
        conn.execute(graph_edges.insert().returning(graph_edges.c.id), list(part)).all()
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
        },
    )
    result.edges_added += len(inserts)
    result.edges_updated += len(updates)
    return [(r["src"], r["dst"], r["kind"]) for r in inserts]
