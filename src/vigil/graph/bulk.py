"""Bulk writes of graph rows: many rows in few statements, without per-row statement overhead.

On PostgreSQL one ``INSERT ... SELECT FROM unnest(arrays)`` / ``UPDATE ... FROM unnest(arrays)`` per
chunk (a round trip per row is what makes a batch slow there); on SQLite one ``executemany`` of the
driver's own statement, the values converted by the columns' own SQLAlchemy bind processors (so they are
stored exactly as any other write stores them). ``columns`` names each column's PostgreSQL type:
``text``, ``int``, ``timestamptz`` or ``jsonb``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, text

PG_CHUNK = 5000


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _pg_arrays(columns: dict[str, str], rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    params: dict[str, list[Any]] = {}
    for n, t in columns.items():
        if t == "jsonb":
            params[n] = [json.dumps(r[n], ensure_ascii=False) for r in rows]
        elif t == "timestamptz":
            params[n] = [_aware(r[n]) for r in rows]
        else:
            params[n] = [r[n] for r in rows]
    return params


def _pg_unnest(columns: dict[str, str]) -> str:
    return ", ".join(
        f"CAST(:{n} AS text[])::jsonb[]" if t == "jsonb" else f"CAST(:{n} AS {t}[])"
        for n, t in columns.items()
    )


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _sqlite_rows(
    conn: Connection, table: Table, names: list[str], rows: list[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    dialect = conn.dialect
    procs: list[Callable[[Any], Any] | None] = [
        table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names
    ]
    pairs = list(zip(names, procs, strict=True))
    return [tuple(p(r[n]) if p is not None else r[n] for n, p in pairs) for r in rows]


def bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]], columns: dict[str, str]) -> None:
    """Insert ``rows`` (dicts with every column of ``columns``)."""
    if not rows:
        return
    names = list(columns)
    if conn.dialect.name == "postgresql":
        sql = text(f"INSERT INTO {table.name} ({_quoted(names)}) SELECT * FROM unnest({_pg_unnest(columns)})")
        for start in range(0, len(rows), PG_CHUNK):
            conn.execute(sql, _pg_arrays(columns, rows[start : start + PG_CHUNK]))
        return
    marks = ", ".join("?" for _ in names)
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({_quoted(names)}) VALUES ({marks})",
        _sqlite_rows(conn, table, names, rows),
    )


def bulk_update(conn: Connection, table: Table, rows: list[dict[str, Any]], columns: dict[str, str]) -> None:
    """Update rows by ``_id`` (the row's ``id``), setting the columns of ``columns``."""
    if not rows:
        return
    names = list(columns)
    if conn.dialect.name == "postgresql":
        sets = ", ".join(f'"{n}" = v."{n}"' for n in names)
        sql = text(
            f"UPDATE {table.name} AS t SET {sets} FROM unnest(CAST(:_id AS int[]), {_pg_unnest(columns)}) "
            f"AS v(_id, {_quoted(names)}) WHERE t.id = v._id"
        )
        for start in range(0, len(rows), PG_CHUNK):
            part = rows[start : start + PG_CHUNK]
            conn.execute(sql, {"_id": [r["_id"] for r in part], **_pg_arrays(columns, part)})
        return
    sets = ", ".join(f'"{n}" = ?' for n in names)
    values = _sqlite_rows(conn, table, names, rows)
    ids = [r["_id"] for r in rows]
    conn.exec_driver_sql(
        f"UPDATE {table.name} SET {sets} WHERE id = ?", [(*v, i) for v, i in zip(values, ids, strict=True)]
    )
