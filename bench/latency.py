"""Time to detection, and items/s through the worker path.

1. Latency: a local JSON Lines feed is watched at the default schedule (``vigil watch serve``'s loop, in
   this process); posts containing a watch-list term appear at random moments; for each, the time from
   its appearance to its open case. Prints p50 / p99 / max seconds.
2. Throughput: items published to NATS JetStream (127.0.0.1:4222), processed by ``vigil worker``
   processes; items/s from the first item stored to the last, against the in-process pipeline on the
   same items as the baseline.

    .venv/bin/python bench/latency.py                      # both, default schedule, 10 posts, 2 workers
    .venv/bin/python bench/latency.py --posts 30 --skip-throughput
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import Item, make_item_id
from vigil.detect.watchlist import WatchlistDetector
from vigil.ingest.pipeline import Pipeline
from vigil.net.guard import StaticResolver
from vigil.store import Store
from vigil.store.schema import cases
from vigil.store.schema import items as items_table
from vigil.watch.registry import DEFAULT_INTERVAL_S, add_source
from vigil.watch.runner import WatchRunner

TERM = "flagged-term"


class FeedServer:
    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.lock = threading.Lock()
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with feed.lock:
                    body = b"".join(feed.lines)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def post(self, post_id: str, text: str) -> None:
        with self.lock:
            self.lines.append((json.dumps({"id": post_id, "text": text}) + "\n").encode())


def latency(posts: int, interval: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    home = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    config = Config.load(home, allow_private_addresses=True)
    store = open_store(config)
    feed = FeedServer()
    feed.post("warm-up", "a neutral post")
    url = f"http://feeds.bench:{feed.server.server_address[1]}/feed.jsonl"
    add_source(store, "bench-feed", "feed", url, interval_s=interval)
    runner = WatchRunner(
        config,
        store,
        [WatchlistDetector(terms={TERM: 1.0})],
        resolver=StaticResolver({"feeds.bench": "127.0.0.1"}),
    )
    stop = threading.Event()
    thread = threading.Thread(target=runner.serve, args=(stop,), kwargs={"poll_s": 1.0}, daemon=True)
    thread.start()
    found: list[float] = []
    try:
        for n in range(posts):
            time.sleep(rng.uniform(0, interval))
            post_id = f"post-{n}"
            item_id = make_item_id("jsonl", post_id)
            posted = datetime.now().astimezone()
            feed.post(post_id, f"neutral post {n} with a {TERM}")
            while True:
                with store.read() as conn:
                    opened = conn.execute(
                        select(cases.c.opened_at).where(cases.c.item_id == item_id)
                    ).scalar()
                if opened is not None:
                    break
                time.sleep(0.05)
            found.append((opened - posted).total_seconds())
            print(f"  post {n + 1}/{posts}: case after {found[-1]:.2f} s", file=sys.stderr)
    finally:
        stop.set()
        thread.join(30)
        feed.server.shutdown()
        store.close()
    return found


def stored_count(store: Store, source: str) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).where(items_table.c.source == source)).scalar_one())


def throughput(count: int, workers: int, database_url: str) -> tuple[float, float] | None:
    from vigil.ingest.jetstream import JetStreamPublisher, delete_stream

    home = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    (home / "watchlist.txt").write_text(TERM + "\n", "utf-8")
    stream = f"VIGIL_BENCH_{uuid.uuid4().hex[:8]}"
    config = Config.load(
        home, queue_url="nats://127.0.0.1:4222", queue_stream=stream, database_url=database_url
    )
    run = uuid.uuid4().hex[:8]  # fresh ids, so that a shared PostgreSQL database can be reused

    def items(source: str) -> list[Item]:
        return [
            Item(
                make_item_id(source, str(i)),
                source,
                f"neutral post {i}" + (f" {TERM}" if i % 50 == 0 else ""),
                native_id=str(i),
            )
            for i in range(count)
        ]

    batch = items(f"bench-{run}")
    # Baseline: the in-process pipeline on the same texts (other ids).
    base_store = open_store(Config.load(home / "baseline", database_url=database_url))
    pipeline = Pipeline(base_store, [WatchlistDetector(terms={TERM: 1.0})])
    baseline = items(f"baseline-{run}")
    t0 = time.perf_counter()
    for i in range(0, count, 50):
        pipeline.process(baseline[i : i + 50])
    in_process = count / (time.perf_counter() - t0)
    base_store.close()
    try:
        publisher = JetStreamPublisher(config)
        publisher.process(batch)
        publisher.close()
    except Exception as exc:
        print(f"throughput skipped: NATS JetStream not reachable ({exc})", file=sys.stderr)
        return None
    store = open_store(config)
    env = {
        **os.environ,
        "VIGIL_HOME": str(home),
        "VIGIL_QUEUE_URL": config.queue_url,
        "VIGIL_QUEUE_STREAM": stream,
    }
    if database_url:
        env["VIGIL_DATABASE_URL"] = database_url
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "vigil", "worker", "--idle-exit", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        first = None
        while (stored := stored_count(store, f"bench-{run}")) < count:
            if stored and first is None:
                first = (time.perf_counter(), stored)
            time.sleep(0.02)
        end = time.perf_counter()
    finally:
        for proc in procs:
            proc.wait(60)
        asyncio.run(delete_stream(config))
        store.close()
    assert first is not None
    worker_rate = (count - first[1]) / (end - first[0])
    return worker_rate, in_process


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=10)
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL_S)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default="", help="throughput on this database (default: SQLite)")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    print(f"cpu cores: {os.cpu_count()}")
    if not args.skip_latency:
        default = " (the default schedule)" if args.interval == DEFAULT_INTERVAL_S else ""
        print(f"latency: {args.posts} posts, feed polled every {args.interval:g} s{default}")
        found = np.array(latency(args.posts, args.interval, args.seed))
        p50, p99 = np.percentile(found, 50), np.percentile(found, 99)
        print(
            f"  post -> open case: p50 {p50:.1f} s, p99 {p99:.1f} s, "
            f"max {found.max():.1f} s, mean {found.mean():.1f} s"
        )
    if not args.skip_throughput:
        print(f"throughput: {args.items} items, {args.workers} workers on NATS JetStream")
        rates = throughput(args.items, args.workers, args.database_url)
        if rates:
            worker_rate, in_process = rates
            print(
                f"  worker path {worker_rate:.0f} items/s; in-process pipeline {in_process:.0f} items/s "
                f"(ratio {worker_rate / in_process:.2f})"
            )


if __name__ == "__main__":
    main()
