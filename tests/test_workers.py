"""Streaming workers on NATS JetStream (127.0.0.1:4222): two real worker processes share the queue, one
is killed with SIGKILL mid-batch, and every item ends up processed exactly once in the store."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from sqlalchemy import func, select

from vigil.config import Config
from vigil.core.model import Item, make_item_id
from vigil.errors import RecordError
from vigil.ingest.jetstream import JetStreamPublisher, delete_stream
from vigil.ingest.messages import decode_item, encode_item
from vigil.store import Store
from vigil.store.schema import case_events, items, signals

NATS_URL = "nats://127.0.0.1:4222"
N = 300


@pytest.fixture
def queue_config(home: Path) -> Iterator[Config]:
    config = Config.load(
        home, queue_url=NATS_URL, queue_stream=f"VIGIL_TEST_{uuid.uuid4().hex[:12]}", queue_ack_wait=2.0
    )
    yield config
    asyncio.run(delete_stream(config))


def posts(n: int) -> list[Item]:
    return [
        Item(
            id=make_item_id("test", str(i)),
            source="test",
            native_id=str(i),
            text=f"neutral post {i}" + (" with a flagged-term" if i % 10 == 0 else ""),
        )
        for i in range(n)
    ]


async def stream_messages(config: Config) -> int:
    nc = await nats.connect(config.queue_url)
    try:
        info = await nc.jetstream().stream_info(config.queue_stream)
        return int(info.state.messages)
    finally:
        await nc.close()


def start_worker(config: Config, database_url: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "VIGIL_HOME": str(config.home),
        "VIGIL_QUEUE_URL": config.queue_url,
        "VIGIL_QUEUE_STREAM": config.queue_stream,
        "VIGIL_QUEUE_ACK_WAIT": str(config.queue_ack_wait),
        # Only the watch-list: exactly-once is checked as one signal per flagged item.
        "VIGIL_DETECTORS": "watchlist",
    }
    env.pop("VIGIL_DATABASE_URL", None)
    if not database_url.startswith("sqlite"):
        env["VIGIL_DATABASE_URL"] = database_url
    args = ["worker", "--batch", "15", "--idle-exit", "3", "--pause-before-ack", "0.3", "--progress"]
    return subprocess.Popen(
        [sys.executable, "-m", "vigil", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_workers_one_killed_mid_batch(queue_config: Config, store: Store, database_url: str) -> None:
    (queue_config.home / "watchlist.txt").write_text("flagged-term\n", "utf-8")
    publisher = JetStreamPublisher(queue_config)
    batch = posts(N)
    publisher.process(batch)
    publisher.process(batch[:50])  # published twice: the message id (the item id) drops the copies
    publisher.close()
    assert asyncio.run(stream_messages(queue_config)) == N

    victim = start_worker(queue_config, database_url)
    survivor = start_worker(queue_config, database_url)
    try:
        assert victim.stdout is not None
        for _ in range(2):  # let the victim finish a few batches, then kill it inside the next one
            line = victim.stdout.readline()
            assert line.startswith('{"batch"'), victim.stderr.read() if victim.stderr else ""
        time.sleep(0.15)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        out, errs = survivor.communicate(timeout=120)
    finally:
        for proc in (victim, survivor):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
    assert victim.returncode == -signal.SIGKILL
    assert survivor.returncode == 0, errs
    done = json.loads(out.splitlines()[-1])["done"]
    assert done["redelivered"] >= 1  # the victim's unacknowledged batch came back to the survivor

    with store.read() as conn:
        stored = set(conn.execute(select(items.c.id)).scalars())
        per_item = conn.execute(select(signals.c.item_id, func.count()).group_by(signals.c.item_id)).all()
        events = conn.execute(
            select(case_events.c.case_id, func.count()).group_by(case_events.c.case_id)
        ).all()
    assert stored == {item.id for item in batch}
    flagged = {item.id for item in batch if "flagged-term" in item.text}
    assert {item_id for item_id, _ in per_item} == flagged and all(c == 1 for _, c in per_item)
    assert store.count("cases") == len(flagged) == N // 10 and all(c == 1 for _, c in events)
    assert asyncio.run(stream_messages(queue_config)) == 0  # every message acknowledged (work queue)


def test_messages_round_trip_and_bad_ones_are_refused() -> None:
    item = posts(1)[0]
    item.html = "<p>" + "x" * 2_000_000 + "</p>"
    back = decode_item(encode_item(item))
    assert back.id == item.id and back.html is None and back.meta["html_dropped"]
    for bad in (b"not json", b"[1, 2]", b'{"id": "x"}'):
        with pytest.raises(RecordError):
            decode_item(bad)


def test_worker_without_a_queue_is_a_usage_error(home: Path) -> None:
    env = {**os.environ, "VIGIL_HOME": str(home)}
    env.pop("VIGIL_QUEUE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "vigil", "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "no queue configured" in done.stderr


def test_redelivered_items_stored_without_their_case_get_it(store: Store) -> None:
    """A worker killed after storing items but before their signals and case: on redelivery the items are
    not new any more, and still end up with one signal and one case each, and no duplicates."""
    from vigil.detect.watchlist import WatchlistDetector
    from vigil.ingest.pipeline import Pipeline

    batch = posts(20)
    store.add_items(batch[:10])  # what the killed worker committed before it died
    pipeline = Pipeline(store, [WatchlistDetector(terms={"flagged-term": 1.0})])
    result = pipeline.process(batch)
    assert result.new_items == 10 and result.cases == 2
    again = pipeline.process(batch)
    assert again.new_items == 0 and again.cases == 0
    assert store.count("items") == 20 and store.count("signals") == 2 and store.count("cases") == 2
