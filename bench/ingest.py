"""Ingest speed and memory: JSON Lines through the real Scanner into SQLite and into PostgreSQL.

    .venv/bin/python bench/ingest.py            # 100k records per store, memory at 50k vs 200k
    .venv/bin/python bench/ingest.py --quick    # 20k records, memory at 10k vs 40k

Each measurement runs in its own subprocess, so peak RSS (ru_maxrss) belongs to that run alone. Detectors:
the watch-list only (one placeholder term, which 1 record in 100 contains). The baseline is the JSONL
parser alone (no store) on the same file, in the same subprocess; the ratio says what storing costs.
"per CPU-s" divides by this process's CPU time instead of wall time: on a shared, busy machine it is the
figure that does not depend on the neighbours (for PostgreSQL it leaves out the server's own work).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

PG_ADMIN = os.environ.get("VIGIL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TERM = "placeholder-watch-term"
WORDS = [
    "harbour",
    "library",
    "market",
    "bus",
    "weather",
    "notice",
    "river",
    "garden",
    "school",
    "bridge",
    "festival",
    "museum",
]


def write_records(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            words = " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(12))
            text = f"Record {i}: neutral placeholder about the {words}." + (
                f" {TERM}" if i % 100 == 0 else ""
            )
            day, minute = 1 + i % 28, i % 1440
            date = f"2026-11-{day:02d}T{minute // 60:02d}:{minute % 60:02d}:{i % 60:02d}Z"
            rec = {"id": f"r{i}", "text": text, "account": f"acct_{i % 500}", "date": date}
            fh.write(json.dumps(rec) + "\n")


def one(store_kind: str, n: int) -> dict[str, float]:
    """Runs in a subprocess: generate, parse-only baseline, then scan into the store."""
    from sqlalchemy import create_engine, text

    from vigil.boot import open_store
    from vigil.config import Config
    from vigil.detect.watchlist import WatchlistDetector
    from vigil.ingest.scan import Scanner
    from vigil.sources.base import SourceContext
    from vigil.sources.jsonl import JsonLinesSource
    from vigil.store.media import MediaSink

    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        home = Path(tmp)
        data = home / "records.jsonl"
        write_records(data, n)
        config = Config.load(home)
        start = time.perf_counter()
        ctx = SourceContext(media=MediaSink(home / "media"))
        parsed = sum(1 for _ in JsonLinesSource().read(data, ctx))
        parse_s = time.perf_counter() - start
        db_name = ""
        admin = None
        if store_kind == "postgresql":
            db_name = f"vigil_bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{db_name}"'))
            config.database_url = PG_ADMIN.rsplit("/", 1)[0] + "/" + db_name
        try:
            store = open_store(config)
            scanner = Scanner(config, store, [WatchlistDetector(config, terms={TERM: 1.0})])
            start, cpu = time.perf_counter(), time.process_time()
            summary = scanner.scan(str(data))
            scan_s, scan_cpu = time.perf_counter() - start, time.process_time() - cpu
            store.close()
        finally:
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
                admin.dispose()
    assert summary.new_items == n == parsed, (summary, parsed)
    return {
        "records": n,
        "parse_per_s": parsed / parse_s,
        "items_per_s": n / scan_s,
        "items_per_cpu_s": n / scan_cpu,
        "cases": summary.cases,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_one(store_kind: str, n: int) -> dict[str, float] | None:
    proc = subprocess.run(
        [sys.executable, __file__, "--one", store_kind, str(n)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        print(f"  {store_kind} {n}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--one", nargs=2, metavar=("STORE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]))))
        return
    size, small, large = (20_000, 10_000, 40_000) if args.quick else (100_000, 50_000, 200_000)
    print(f"JSONL -> Scanner (watch-list detector only) -> store; {size:,} synthetic neutral records\n")
    print(
        f"{'store':<11} {'records':>9} {'items/s':>9} {'per CPU-s':>10} {'parse-only/s':>13}"
        f" {'store/parse':>11} {'peak RSS':>10}"
    )
    for kind in ("sqlite", "postgresql"):
        r = run_one(kind, size)
        if r:
            print(
                f"{kind:<11} {r['records']:>9,} {r['items_per_s']:>9,.0f} {r['items_per_cpu_s']:>10,.0f}"
                f" {r['parse_per_s']:>13,.0f} "
                f"{r['items_per_s'] / r['parse_per_s']:>11.2f} {r['peak_rss_mib']:>8.0f} MiB"
            )
    print("\nmemory against input size (SQLite):")
    rows = [r for r in (run_one("sqlite", n) for n in (small, large)) if r]
    for r in rows:
        print(
            f"  {r['records']:>9,} records: peak RSS {r['peak_rss_mib']:.0f} MiB,"
            f" {r['items_per_s']:,.0f} items/s"
        )
    if len(rows) == 2:
        print(
            f"  peak RSS at {large // small}x the input:"
            f" {rows[1]['peak_rss_mib'] / rows[0]['peak_rss_mib']:.2f}x"
        )


if __name__ == "__main__":
    main()
