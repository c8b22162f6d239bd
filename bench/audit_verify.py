"""What the /audit page's chain check costs: a full recomputation (``vigil.audit.log.verify``) against the
incremental one from the last checkpoint (``verify_since_checkpoint``), as the log grows.

    .venv/bin/python bench/audit_verify.py                       # SQLite and PostgreSQL, 20,000 entries
    .venv/bin/python bench/audit_verify.py --backend sqlite --entries 100000 --new 50

Fills the log with placeholder entries through the real ``append`` path, verifies it once in full (which
records a checkpoint), appends ``--new`` entries, then times both checks (median of ``--runs``). Each
incremental run starts from the same checkpoint: the checkpoints the runs would add are removed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import delete, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.api import _pg_database

from vigil.audit import log as audit
from vigil.boot import open_store
from vigil.config import Config
from vigil.store import Store


def _fill(store: Store, n: int, start: int = 0) -> None:
    chunk = 1000
    for base in range(start, start + n, chunk):
        with store.write() as conn:
            for i in range(base, min(base + chunk, start + n)):
                audit.append_in(conn, f"user{i % 7}", "case.view", "case", i, {"n": i, "note": "placeholder"})


def _median(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(name: str, url: str, home: Path, entries: int, new: int, runs: int) -> None:
    store = open_store(Config(home=home, database_url=url))
    try:
        _fill(store, entries)
        assert audit.verify(store).ok
        with store.read() as conn:
            mark = conn.execute(select(func.max(audit.audit_checkpoints.c.id))).scalar_one()
        _fill(store, new, entries)

        def incremental() -> None:
            result = audit.verify_since_checkpoint(store)
            assert result.ok and result.entries == entries + new
            with store.write() as conn:  # the next run starts from the same checkpoint
                conn.execute(delete(audit.audit_checkpoints).where(audit.audit_checkpoints.c.id > mark))

        def full() -> None:
            assert audit.verify(store).ok
            with store.write() as conn:
                conn.execute(delete(audit.audit_checkpoints).where(audit.audit_checkpoints.c.id > mark))

        t_full = _median(full, runs)
        t_inc = _median(incremental, runs)
        print(
            f"{name}: {entries + new} entries, {new} after the checkpoint: full {t_full * 1000:.0f} ms, "
            f"incremental {t_inc * 1000:.1f} ms ({t_full / t_inc:.0f}x faster)"
        )
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--new", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            if backend == "sqlite":
                run("SQLite", f"sqlite:///{home / 'bench.db'}", home, args.entries, args.new, args.runs)
            else:
                url, drop = _pg_database()
                try:
                    run("PostgreSQL", url, home, args.entries, args.new, args.runs)
                finally:
                    drop()


if __name__ == "__main__":
    main()
