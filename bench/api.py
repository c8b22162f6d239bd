"""Requests/s and latency (p50, p99) of the review API with 100,000 cases in the store.

    .venv/bin/python bench/api.py                      # SQLite and PostgreSQL, 100,000 cases
    .venv/bin/python bench/api.py --backend sqlite --cases 20000 --requests 300

The store is filled with bulk inserts (placeholder items and cases), ``vigil serve`` runs in its own
process, and one client issues requests one after another (latency) and then from several threads
(throughput). ``GET /api/v1/auth/me`` (authentication only) is the baseline each figure is compared with.
Results are printed and written to bench/out/api.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import create_engine, text

from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import CaseState, Severity
from vigil.store import Store
from vigil.store.schema import cases, items
from vigil.workflow import accounts

console = Console(stderr=True)
PG_ADMIN = os.environ.get("VIGIL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "benchmark password"


def fill(store: Store, n: int, chunk: int = 10_000) -> None:
    """Bulk-insert ``n`` placeholder items and one case each, spread over 30 days, states and queues."""
    rng = random.Random(7)
    start = datetime.now(UTC) - timedelta(days=30)
    states = [CaseState.NEW] * 6 + [CaseState.TRIAGE] * 2 + list(CaseState)
    severities = list(Severity)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("filling the store", total=n)
        for base in range(0, n, chunk):
            item_rows, case_rows = [], []
            for i in range(base, min(n, base + chunk)):
                when = start + timedelta(seconds=rng.randrange(30 * 86400))
                item_id = f"{i:032x}"
                item_rows.append(
                    {
                        "id": item_id,
                        "source": "bench",
                        "text": f"placeholder text number {i}",
                        "lang": rng.choice(["en", "ar", "fr"]),
                        "ingested_at": when,
                    }
                )
                case_rows.append(
                    {
                        "item_id": item_id,
                        "state": str(rng.choice(states)),
                        "severity": str(rng.choice(severities)),
                        "score": rng.random(),
                        "title": f"placeholder case {i}",
                        "opened_at": when,
                        "updated_at": when,
                        "meta": {},
                    }
                )
            with store.write() as conn:
                conn.execute(items.insert(), item_rows)
                conn.execute(cases.insert(), case_rows)
            progress.advance(task, len(case_rows))
    if store.dialect == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    else:
        with store.write() as conn:
            conn.execute(text("ANALYZE"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(home: Path, url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "VIGIL_HOME": str(home), "VIGIL_DATABASE_URL": url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "vigil", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/openapi.json", timeout=2)
            return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("vigil serve did not start")


def _measure(client: httpx.Client, paths: list[str], threads: int) -> dict[str, float]:
    latencies = []
    began = time.perf_counter()
    for path in paths:
        t0 = time.perf_counter()
        response = client.get(path)
        latencies.append(time.perf_counter() - t0)
        response.raise_for_status()
    sequential = time.perf_counter() - began

    def one(path: str) -> None:
        client.get(path).raise_for_status()

    began = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, paths))
    parallel = time.perf_counter() - began
    ordered = sorted(latencies)
    return {
        "requests": len(paths),
        "rps_sequential": len(paths) / sequential,
        "rps_parallel": len(paths) / parallel,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    }


def run_backend(name: str, url: str, home: Path, n: int, requests: int, threads: int) -> dict[str, Any]:
    config = Config.load(home, database_url=url)
    store = open_store(config)
    t0 = time.perf_counter()
    fill(store, n)
    fill_s = time.perf_counter() - t0
    accounts.add_user(
        store,
        "bench",
        "verifier",
        PASSWORD,
        hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
    )
    store.close()
    proc, base = _start_server(home, url)
    rng = random.Random(11)
    try:
        with httpx.Client(base_url=base, timeout=30, limits=httpx.Limits(max_connections=threads)) as client:
            token = client.post("/api/v1/auth/token", json={"username": "bench", "password": PASSWORD})
            client.headers["Authorization"] = f"Bearer {token.raise_for_status().json()['access_token']}"
            deep = client.get("/api/v1/cases", params={"limit": 200}).json()["next_cursor"]
            workloads = {
                "baseline: auth only (/auth/me)": ["/api/v1/auth/me"] * requests,
                "queue, first page (50)": ["/api/v1/cases?limit=50"] * requests,
                "queue, state+severity filter": [
                    f"/api/v1/cases?state=new&severity={rng.choice(list(Severity))!s}&limit=50"
                    for _ in range(requests)
                ],
                "queue, next page by cursor": [f"/api/v1/cases?limit=50&after={deep}"] * requests,
                "open a case (audited)": [f"/api/v1/cases/{rng.randint(1, n)}" for _ in range(requests)],
            }
            results = {}
            for label, paths in workloads.items():
                client.get(paths[0])  # warm
                results[label] = _measure(client, paths, threads)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"backend": name, "cases": n, "fill_seconds": fill_s, "results": results}


def _pg_database() -> tuple[str, Any]:
    name = f"vigil_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name, drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    out: list[dict[str, Any]] = []
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
            home = Path(tmp)
            if backend == "sqlite":
                out.append(
                    run_backend(
                        backend,
                        f"sqlite:///{home / 'vigil.db'}",
                        home,
                        args.cases,
                        args.requests,
                        args.threads,
                    )
                )
            else:
                url, drop = _pg_database()
                try:
                    out.append(run_backend(backend, url, home, args.cases, args.requests, args.threads))
                finally:
                    drop()
    for run in out:
        table = Table(
            title=f"{run['backend']}: {run['cases']:,} cases (filled in {run['fill_seconds']:.1f} s)"
        )
        for col in (
            "workload",
            "req/s (1 client)",
            f"req/s ({args.threads} threads)",
            "p50 ms",
            "p99 ms",
            "× baseline p50",
        ):
            table.add_column(col, justify="right" if col != "workload" else "left")
        base = next(iter(run["results"].values()))["p50_ms"]
        for label, r in run["results"].items():
            table.add_row(
                label,
                f"{r['rps_sequential']:.0f}",
                f"{r['rps_parallel']:.0f}",
                f"{r['p50_ms']:.1f}",
                f"{r['p99_ms']:.1f}",
                f"{r['p50_ms'] / base:.2f}",
            )
        Console().print(table)
    target = Path(__file__).parent / "out" / "api.json"
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps(out, indent=2))
    console.print(f"written to {target}")


if __name__ == "__main__":
    main()
