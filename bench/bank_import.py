"""Bulk import of hash-bank entries: entries/s through ``vigil bank import``'s own code, SQLite and
PostgreSQL.

    .venv/bin/python bench/bank_import.py --entries 200000
    .venv/bin/python bench/bank_import.py --entries 1000000 --backends sqlite
    PYTHONPATH=/path/to/older/checkout/src .venv/bin/python bench/bank_import.py --entries 200000
        # the same bench against an older vigil (the CLI function's arguments have not changed)

Each backend gets a fresh store (a temporary VIGIL_HOME; on PostgreSQL a database created for the run and
dropped after it). The file is ``--entries`` random PDQ hashes, one a line, plus ``--bad`` malformed lines
spread through it. Figures: the first import (into an empty bank, including the index build), a second
import of the same file (every entry a duplicate), then a check that the bank holds every hash and that
the matcher finds a sample of them at distance 0.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, text

import vigil
from vigil.banks.pdqindex import words_to_hex

PG_ADMIN_URL = os.environ.get("VIGIL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def make_file(path: Path, n: int, bad: int) -> list[str]:
    hexes = words_to_hex(np.random.default_rng(7).integers(0, 2**64, size=(n, 4), dtype=np.uint64))
    lines = list(hexes)
    step = max(1, n // max(bad, 1))
    for k in range(bad):
        lines.insert(min(len(lines), k * step + k), "not-a-hash-" + str(k))
    path.write_text("\n".join(lines) + "\n")
    return hexes


def run_import(name: str, path: Path) -> tuple[float, str]:
    from vigil.cli.banks import bank_import

    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        bank_import(name, path, None, "pdq", None, False)
    return time.perf_counter() - start, out.getvalue().strip()


def check(hexes: list[str]) -> str:
    from vigil.banks.matcher import Matcher
    from vigil.banks.service import BankService
    from vigil.cli.common import load_config, open_store

    config = load_config()
    with open_store(config) as store:
        service = BankService(store, config)
        count = service.get("bench").entries
        sample = hexes[:: max(1, len(hexes) // 1000)]
        found = sum(any(m.distance == 0 for m in r.matches) for r in Matcher(service).match_pdq(sample))
    return f"bank holds {count:,} of {len(hexes):,}; matcher found {found} of {len(sample)} at distance 0"


def bench(backend: str, n: int, bad: int, tmp: Path) -> None:
    from vigil.cli.banks import bank_create

    home = tmp / backend
    os.environ["VIGIL_HOME"] = str(home)
    os.environ.pop("VIGIL_DATABASE_URL", None)
    admin = None
    db = f"vigil_bench_{uuid.uuid4().hex[:10]}"
    if backend == "postgresql":
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db}"'))
        os.environ["VIGIL_DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + db
    try:
        path = tmp / f"bank-{n}.txt"
        hexes = make_file(path, n, bad)
        with contextlib.redirect_stdout(io.StringIO()):
            bank_create("bench", 31, False, "")
        secs, summary = run_import("bench", path)
        print(f"{backend:>10}: first import  {n:>9,} entries {secs:7.1f} s {n / secs:>9,.0f}/s  {summary}")
        secs, summary = run_import("bench", path)
        print(f"{backend:>10}: same file again {n:>7,} entries {secs:7.1f} s {n / secs:>9,.0f}/s  {summary}")
        print(f"{backend:>10}: {check(hexes)}")
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=200_000)
    ap.add_argument("--bad", type=int, default=100, help="malformed lines spread through the file")
    ap.add_argument("--backends", default="sqlite,postgresql")
    args = ap.parse_args()
    print(f"vigil from {Path(vigil.__file__).parent}")
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        for backend in args.backends.split(","):
            bench(backend, args.entries, args.bad, Path(tmp))


if __name__ == "__main__":
    main()
