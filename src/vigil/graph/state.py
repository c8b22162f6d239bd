"""Small persistent state of the graph (version, catch-up watermark) and the analysis-result cache."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Text, any_, bindparam, func, select, text

from vigil.graph.tables import graph_cache, graph_state
from vigil.store import Store

T = TypeVar("T")
_PG_LOCK_KEY = 0x67726170  # "grap"


def lock(conn: Connection) -> None:
    """Serialise graph writers across processes on PostgreSQL (SQLite has one writer anyway)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})


def get_state(conn: Connection, key: str, default: Any = None) -> Any:
    value = conn.execute(select(graph_state.c.value).where(graph_state.c.key == key)).scalar()
    return default if value is None else value


def set_state(conn: Connection, key: str, value: Any) -> None:
    if conn.execute(select(graph_state.c.key).where(graph_state.c.key == key)).first():
        conn.execute(graph_state.update().where(graph_state.c.key == key).values(value=value))
    else:
        conn.execute(graph_state.insert().values(key=key, value=value))


def count_rows(conn: Connection) -> dict[str, dict[str, int]]:
    """Nodes and edges by kind, counted in the tables."""
    from vigil.graph.tables import graph_edges, graph_nodes

    return {
        "nodes": {k: int(n) for k, n in conn.execute(_by_kind(graph_nodes))},
        "edges": {k: int(n) for k, n in conn.execute(_by_kind(graph_edges))},
    }


def _by_kind(table: Any) -> Any:
    return select(table.c.kind, func.count()).group_by(table.c.kind)


def add_counts(conn: Connection, nodes: dict[str, int], edges: dict[str, int]) -> None:
    """Keep the counts by kind (``graph_state`` ``counts``) in step with rows just inserted, so ``stats``
    needs no scan of the tables. Without counts yet (an older graph), count the tables (rows included)."""
    counts = get_state(conn, "counts")
    if counts is None:
        counts = count_rows(conn)
    else:
        for part, added in (("nodes", nodes), ("edges", edges)):
            for kind, n in added.items():
                counts[part][kind] = counts[part].get(kind, 0) + n
                if counts[part][kind] <= 0:  # rows removed (an inferred succession): as count_rows has it
                    del counts[part][kind]
    set_state(conn, "counts", counts)


def version(store: Store) -> int:
    with store.read() as conn:
        return int(get_state(conn, "version", 0))


def next_version(conn: Connection) -> int:
    """The version the open write transaction will commit (its ``bump_version``, under the writers'
    lock): rows it inserts or changes are stamped with it in their ``touched`` column."""
    return int(get_state(conn, "version", 0)) + 1


def mark_removed(conn: Connection) -> None:
    """Record that the open write transaction removes rows: a loaded graph older than its version is
    loaded whole again (``vigil.graph.loaded``; a delta of changed rows cannot express a removal)."""
    set_state(conn, "removed", next_version(conn))


def bump_version(conn: Connection) -> int:
    new = int(get_state(conn, "version", 0)) + 1
    set_state(conn, "version", new)
    return new


def cached(store: Store, name: str, compute: Callable[[], T]) -> T:
    """The result of ``compute`` for the current graph version, computed once per version."""
    return warm_cached(store, name, lambda _previous: compute())


def warm_cached(store: Store, name: str, compute: Callable[[Any], T]) -> T:
    """Like ``cached``, but ``compute`` gets the result for an earlier version (or None) to start from."""
    current = version(store)
    with store.read() as conn:
        row = conn.execute(
            select(graph_cache.c.version, graph_cache.c.value).where(graph_cache.c.name == name)
        ).first()
    if row is not None and row[0] == current:
        return row[1]  # type: ignore[no-any-return,unused-ignore]
    value = compute(row[1] if row is not None else None)
    with store.write() as conn:
        conn.execute(graph_cache.delete().where(graph_cache.c.name == name))
        conn.execute(graph_cache.insert().values(name=name, version=current, value=value))
    return value


def among(conn: Connection, column: Any, values: Sequence[Any]) -> Any:
    """``column IN values`` with the values as one parameter, however many (one cached plan, no per-value
    binding): ``= ANY(array)`` on PostgreSQL, ``IN (SELECT value FROM json_each(?))`` on SQLite."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    listed = func.json_each(bindparam(None, json.dumps(list(values)), type_=Text)).table_valued("value")
    return column.in_(select(listed.c.value))
