"""Time of the queue's tab counts (``vigil.workflow.tabs.tab_counts``: one query) with many cases.

    .venv/bin/python bench/queue_tabs.py                          # SQLite and PostgreSQL, 100,000 cases
    .venv/bin/python bench/queue_tabs.py --backend sqlite --cases 20000 --runs 20

Fills a store as bench/api.py does (placeholder cases over 30 days, states and queues, plus one history
row by a reviewer on every tenth case), then prints p50 and max of the counts over ``--runs`` calls.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.api import _pg_database, fill

from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import utcnow
from vigil.store.schema import case_events, cases
from vigil.workflow.sla_config import SlaSettings
from vigil.workflow.tabs import Viewer, tab_counts


def run(name: str, url: str, home: Path, n: int, runs: int) -> None:
    store = open_store(Config(home=home, database_url=url))
    try:
        fill(store, n)
        with store.write() as conn:
            rows = conn.execute(select(cases.c.id, cases.c.state).where(cases.c.id % 10 == 0)).all()
            conn.execute(
                insert(case_events),
                [
                    {"case_id": i, "from_state": "new", "to_state": s, "actor": "ana", "at": utcnow()}
                    for i, s in rows
                ],
            )
        viewer = Viewer("ana", "verifier", SlaSettings(), utcnow())  # the reviewer of the history rows
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            counts = tab_counts(store, viewer)
            times.append((time.perf_counter() - start) * 1000)
        print(
            f"{name}: {n:,} cases, tab counts p50 {statistics.median(times):.1f} ms, "
            f"max {max(times):.1f} ms ({runs} runs); counts {counts}"
        )
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    for backend in ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]:
        with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
            if backend == "sqlite":
                run(backend, f"sqlite:///{Path(tmp) / 'vigil.db'}", Path(tmp), args.cases, args.runs)
            else:
                url, drop = _pg_database()
                try:
                    run(backend, url, Path(tmp), args.cases, args.runs)
                finally:
                    drop()


if __name__ == "__main__":
    main()
