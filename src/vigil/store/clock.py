"""The database's clock, for decisions that several processes (on several machines) must agree on, such as
whether a lease has expired: each statement reads the time on the database server, never the caller's.

``db_now()`` and ``db_later(seconds)`` are SQL expressions for a ``UTCDateTime`` column: PostgreSQL's
``clock_timestamp()`` (the time the statement reads it, not the transaction's start as ``now()`` would
be), and on SQLite ``strftime(..., 'now')`` in the text form SQLAlchemy writes datetimes in
(``YYYY-MM-DD HH:MM:SS.ffffff``), so that stored values and the clock compare as text in time order.
SQLite's "database clock" is the clock of the machine its file is on, which every process sharing that
file reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, bindparam, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from vigil.store.store import Store
from vigil.store.types import UTCDateTime

#: strftime's ``%f`` is seconds with milliseconds; the three zeros make it SQLAlchemy's microseconds.
_SQLITE_FORMAT = "'%Y-%m-%d %H:%M:%f000'"


class db_now(FunctionElement[datetime]):
    """The database server's current time (UTC)."""

    type = UTCDateTime()
    inherit_cache = True


class db_later(FunctionElement[datetime]):
    """The database server's current time plus ``seconds``."""

    type = UTCDateTime()
    inherit_cache = True

    def __init__(self, seconds: float) -> None:
        super().__init__(bindparam(None, float(seconds), type_=Float()))


@compiles(db_now, "postgresql")
def _pg_now(element: db_now, compiler: Any, **kw: Any) -> str:
    return "clock_timestamp()"


@compiles(db_now, "sqlite")
def _sqlite_now(element: db_now, compiler: Any, **kw: Any) -> str:
    return f"strftime({_SQLITE_FORMAT}, 'now')"


@compiles(db_later, "postgresql")
def _pg_later(element: db_later, compiler: Any, **kw: Any) -> str:
    return f"(clock_timestamp() + make_interval(secs => {compiler.process(element.clauses, **kw)}))"


@compiles(db_later, "sqlite")
def _sqlite_later(element: db_later, compiler: Any, **kw: Any) -> str:
    seconds = compiler.process(element.clauses, **kw)
    return f"strftime({_SQLITE_FORMAT}, 'now', printf('%+.6f seconds', {seconds}))"


def database_now(store: Store) -> datetime:
    """What time the database server says it is."""
    with store.read() as conn:
        return conn.execute(select(db_now())).scalar_one()
