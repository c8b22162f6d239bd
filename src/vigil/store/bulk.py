"""Fast bulk inserts for ingestion, and clipping of values to their column sizes.

SQLAlchemy's per-row bind processing (JSON, UTC datetimes) costs more than the database itself when
thousands of items arrive a second, so the items insert is written as one multi-row
``INSERT ... ON CONFLICT DO NOTHING RETURNING`` with values serialised here, the way the column types
would have: JSON text, and on SQLite the datetime text SQLAlchemy writes. The result is read back through
the normal table types unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import JSON, Connection, String, Table

from vigil.store.types import UTCDateTime

#: Rows per statement: keeps the number of bound parameters well under SQLite's limit (32766).
ROWS_PER_STATEMENT = 500


@cache
def _limits(table: Table) -> tuple[tuple[str, int], ...]:
    return tuple(
        (c.name, c.type.length)
        for c in table.columns
        if isinstance(c.type, String) and c.type.length is not None
    )


def clip(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """Cut strings to their column's declared length (PostgreSQL refuses longer ones; hostile input has
    them), so one oversized field cannot fail a whole batch."""
    for name, length in _limits(table):
        value = row.get(name)
        if value.__class__ is str and len(value) > length:
            row[name] = value[:length]
    return row


@lru_cache(maxsize=256)  # the batch's ingestion time repeats on every row
def _sqlite_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")  # the text SQLAlchemy's SQLite DATETIME writes


def _pg_datetime(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if not value and isinstance(value, dict | list):
        return "{}" if isinstance(value, dict) else "[]"
    return json.dumps(value, default=str)


@cache
def _plan(table: Table, dialect: str) -> tuple[list[str], list[str], list[Any]]:
    """Column names, one placeholder per column, and a value converter per column."""
    names: list[str] = []
    marks: list[str] = []
    convert: list[Any] = []
    for column in table.columns:
        names.append(column.name)
        kind = column.type
        if isinstance(kind, JSON):
            marks.append("?" if dialect == "sqlite" else "%s::jsonb")
            convert.append(_json_text)
        elif isinstance(kind, UTCDateTime):
            marks.append("?" if dialect == "sqlite" else "%s")
            convert.append(_sqlite_datetime if dialect == "sqlite" else _pg_datetime)
        else:
            marks.append("?" if dialect == "sqlite" else "%s")
            convert.append(None)
    return names, marks, convert


def converters(table: Table, dialect: str) -> dict[str, Any]:
    """Per column, what turns a Python value into what the driver is given (None: the value as it is)."""
    names, _, convert = _plan(table, dialect)
    return dict(zip(names, convert, strict=True))


def sorted_by(rows: dict[Any, dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of a dict keyed by their unique key, in key order (the lock order of ``insert_new``)."""
    return [rows[k] for k in sorted(rows)]


def insert_new(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], key: str) -> list[Any]:
    """Insert rows whose key is not there yet; return the keys of the rows inserted (by this statement:
    a row another transaction inserted first is not returned, so concurrent writers of the same rows
    never both count it). Rows go in key order, so that two writers of overlapping batches take their
    locks in the same order and cannot deadlock (PostgreSQL)."""
    dialect = conn.dialect.name
    names, marks, convert = _plan(table, dialect)
    quoted = ", ".join(f'"{n}"' for n in names)
    row_marks = "(" + ", ".join(marks) + ")"
    inserted: list[Any] = []
    rows = sorted((clip(table, row) for row in rows), key=lambda row: row[key])
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        params: list[Any] = []
        for row in chunk:
            for name, conv in zip(names, convert, strict=True):
                value = row.get(name)
                params.append(conv(value) if conv is not None else value)
        sql = (
            f'INSERT INTO "{table.name}" ({quoted}) VALUES {", ".join([row_marks] * len(chunk))}'
            f' ON CONFLICT DO NOTHING RETURNING "{key}"'
        )
        inserted.extend(r[0] for r in conn.exec_driver_sql(sql, tuple(params)))
    return inserted
