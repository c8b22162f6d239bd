"""Bulk loading of bank entries, the path ``BankService.add`` (and so ``vigil bank import``) takes.

Per chunk of ``CHUNK`` entries, all in the caller's one write transaction: the chunk, without its own
repeats, goes into a temporary table (SQLite: one ``executemany``; PostgreSQL: ``COPY``), then one
``INSERT ... SELECT ... WHERE NOT EXISTS`` moves the rows whose (signal type, value) the bank does not
hold yet into ``bank_entries`` and returns their ids. Repeats across chunks are caught by that same
``NOT EXISTS``: the earlier chunk's rows are already in the table. The check is answered by
``ix_bank_entries_value`` (signal type, value); the previous path asked ``bank_id = ? AND value IN (...)``,
which SQLite answered by scanning the whole bank through ``ix_bank_entries_bank`` for every batch, so an
import got slower with every batch (quadratic: 979 s for a million hashes).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from vigil.banks.model import NewEntry
from vigil.banks.tables import bank_entries
from vigil.store.bulk import clip, converters

CHUNK = 10_000
TEMP = "vigil_bank_load"
_COLUMNS = ("pos", "signal_type", "value", "frames", "source", "source_id", "meta", "first_seen")
_TYPES = {
    "sqlite": ("INTEGER", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT"),
    "postgresql": ("integer", "text", "text", "jsonb", "text", "text", "jsonb", "timestamptz"),
}


def chunks(entries: Iterable[NewEntry], size: int | None = None) -> Iterator[list[NewEntry]]:
    size = size or CHUNK
    batch: list[NewEntry] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class EntryLoader:
    """Loads chunks of entries into one bank inside ``conn``'s transaction; ``close`` drops the temp table."""

    def __init__(self, conn: Connection, bank_id: int, now: datetime) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        if self.dialect not in _TYPES:
            raise NotImplementedError(f"bulk bank load on {self.dialect}")
        self.convert = converters(bank_entries, self.dialect)
        columns = ", ".join(f"{c} {t}" for c, t in zip(_COLUMNS, _TYPES[self.dialect], strict=True))
        # A pooled connection may still hold the table from an import that failed: reuse it, emptied.
        conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {TEMP} ({columns})")
        mark = "?" if self.dialect == "sqlite" else "%s"
        bank = int(bank_id)
        fence = " OFFSET 0" if self.dialect == "postgresql" else ""  # see the module's docstring
        self.insert_sql = (
            "INSERT INTO bank_entries (bank_id, signal_type, value, frames, source, source_id, meta,"
            " first_seen, enabled, quarantined, review_reason, match_count, created_at)"
            f" SELECT {bank}, t.signal_type, t.value, t.frames, t.source, t.source_id, t.meta, t.first_seen,"
            f" TRUE, FALSE, NULL, 0, {mark} FROM {TEMP} t"
            " WHERE NOT EXISTS (SELECT 1 FROM bank_entries e WHERE e.signal_type = t.signal_type"
            f" AND e.value = t.value AND e.bank_id = {bank}{fence})"
            " ORDER BY t.pos RETURNING id, signal_type, value"
        )
        self.stage_sql = f"INSERT INTO {TEMP} ({', '.join(_COLUMNS)}) VALUES ({', '.join([mark] * 8)})"
        self.now = self.convert["created_at"](now)
        self.unanalyzed = 0  # rows this loader added since bank_entries' statistics were taken
        self.analyzed_rows = self._fresh_statistics() if self.dialect == "postgresql" else 0

    def insert(self, chunk: list[NewEntry]) -> list[tuple[int, NewEntry]]:
        """Insert the entries the bank does not hold yet; (new id, entry) for each, in the chunk's order."""
        unique: dict[tuple[str, str], NewEntry] = {}
        for entry in chunk:
            unique.setdefault((entry.signal_type, entry.value), entry)
        if not unique:
            return []
        self.conn.exec_driver_sql(f"{'TRUNCATE' if self.dialect == 'postgresql' else 'DELETE FROM'} {TEMP}")
        self._stage([self._row(pos, e) for pos, e in enumerate(unique.values())])
        cursor = self._cursor()
        cursor.execute(self.insert_sql, (self.now,))
        ids = {(st, v): i for i, st, v in cursor.fetchall()}
        if self.dialect == "postgresql":
            self.unanalyzed += len(ids)
            if self.unanalyzed >= max(CHUNK, self.analyzed_rows):
                self.analyzed_rows = self._analyze()
        return [(ids[key], entry) for key, entry in unique.items() if key in ids]

    def close(self) -> None:
        self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TEMP}")

    def _fresh_statistics(self) -> int:
        """PostgreSQL: ANALYZE ``bank_entries`` first if it changed much since its statistics (a bulk
        import that committed a moment ago, before autovacuum came by); the rows they describe."""
        reltuples, changed = self.conn.exec_driver_sql(
            "SELECT c.reltuples, coalesce(s.n_mod_since_analyze, 0) FROM pg_class c"
            " LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = 'bank_entries'::regclass"
        ).one()
        if reltuples < 0 or changed > max(CHUNK, reltuples):
            return self._analyze()
        return int(reltuples)

    def _analyze(self) -> int:
        self.conn.exec_driver_sql("ANALYZE bank_entries")
        self.unanalyzed = 0
        rows = self.conn.exec_driver_sql(
            "SELECT reltuples FROM pg_class WHERE oid = 'bank_entries'::regclass"
        ).scalar_one()
        return max(int(rows), 0)

    def _row(self, pos: int, e: NewEntry) -> tuple[Any, ...]:
        # Column sizes are enforced by PostgreSQL only: clip as every other bulk path does.
        sized = clip(
            bank_entries, {"signal_type": e.signal_type, "source": e.source, "source_id": e.source_id}
        )
        json_text, stamp = self.convert["meta"], self.convert["first_seen"]
        return (
            pos,
            sized["signal_type"],
            e.value,
            json_text(list(e.extra_hashes) or None),
            sized["source"],
            sized["source_id"],
            json_text(dict(e.meta)),
            stamp(e.first_seen),
        )

    def _cursor(self) -> Any:
        # The driver's own cursor, in the same transaction: SQLAlchemy's result wrapping costs more per
        # returned row than the insert itself.
        return self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]

    def _stage(self, rows: list[tuple[Any, ...]]) -> None:
        cursor = self._cursor()
        if self.dialect == "postgresql":
            with cursor.copy(f"COPY {TEMP} ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(self.stage_sql, rows)
