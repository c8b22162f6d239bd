"""Small persistent state of the graph (version, catch-up watermark) and the analysis-result cache."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, select, text

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


def version(store: Store) -> int:
    with store.read() as conn:
        return int(get_state(conn, "version", 0))


def bump_version(conn: Connection) -> int:
    new = int(get_state(conn, "version", 0)) + 1
    set_state(conn, "version", new)
    return new


def cached(store: Store, name: str, compute: Callable[[], T]) -> T:
    """The result of ``compute`` for the current graph version, computed once per version."""
    current = version(store)
    with store.read() as conn:
        row = conn.execute(
            select(graph_cache.c.version, graph_cache.c.value).where(graph_cache.c.name == name)
        ).first()
    if row is not None and row[0] == current:
        return row[1]  # type: ignore[no-any-return,unused-ignore]
    value = compute()
    with store.write() as conn:
        conn.execute(graph_cache.delete().where(graph_cache.c.name == name))
        conn.execute(graph_cache.insert().values(name=name, version=current, value=value))
    return value


def among(conn: Connection, column: Any, values: list[Any]) -> Any:
    """``column IN values``; on PostgreSQL as ``= ANY(array)`` (one parameter, so one cached plan)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy import any_, bindparam
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)
