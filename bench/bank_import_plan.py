"""PostgreSQL's plan for one chunk of a bulk bank import, deep inside the import's transaction.

    .venv/bin/python bench/bank_import_plan.py --entries 500000
    PYTHONPATH=/path/to/older/checkout/src .venv/bin/python bench/bank_import_plan.py --entries 500000

Creates a database, loads ``--entries`` random PDQ hashes through ``EntryLoader`` in one transaction (as
``vigil bank import`` does; timing the first and last chunks), stages one more chunk and prints
``EXPLAIN (ANALYZE, BUFFERS)`` of its insert, then rolls everything back and drops the database.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid

import numpy as np
from sqlalchemy import create_engine, text

from vigil.banks.load import CHUNK, TEMP, EntryLoader, chunks
from vigil.banks.model import NewEntry
from vigil.banks.pdqindex import words_to_hex
from vigil.banks.tables import banks
from vigil.core.model import utcnow
from vigil.store import Store

PG_ADMIN_URL = os.environ.get("VIGIL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=500_000)
    args = ap.parse_args()
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    db = f"vigil_plan_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    store = Store.open(url=PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + db)
    try:
        now = utcnow()
        with store.write() as conn:
            bank_id = conn.execute(
                banks.insert()
                .values(name="plan", threshold=31, negative=False, enabled=True, version=0)
                .values(description="", created_at=now, updated_at=now)
                .returning(banks.c.id)
            ).scalar_one()
        words = np.random.default_rng(1).integers(0, 2**64, size=(args.entries + CHUNK, 4), dtype=np.uint64)
        entries = [NewEntry("pdq", h) for h in words_to_hex(words)]
        with store.write() as conn:
            loader = EntryLoader(conn, bank_id, now)
            times = []
            start = time.perf_counter()
            for chunk in chunks(entries[: args.entries]):
                t = time.perf_counter()
                loader.insert(chunk)
                times.append(time.perf_counter() - t)
            print(
                f"loaded {args.entries:,} in {time.perf_counter() - start:.1f} s; chunk time: first five"
                f" {np.mean(times[:5]):.3f} s, last five {np.mean(times[-5:]):.3f} s"
            )
            # Stage the next chunk as ``insert`` does, and explain the insert instead of running it.
            conn.exec_driver_sql(f"DELETE FROM {TEMP}")
            loader._stage([loader._row(pos, e) for pos, e in enumerate(entries[args.entries :])])
            cursor = loader._cursor()
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + loader.insert_sql, (loader.now,))
            for (line,) in cursor.fetchall():
                print(line)
            conn.rollback()
    finally:
        store.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
