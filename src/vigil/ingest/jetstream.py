"""NATS JetStream: a durable work queue of items. Publishing uses the item id as the message id (the
server drops duplicates within its window); workers pull batches from one shared durable consumer, store
and detect, and acknowledge only after the store has committed. A worker that dies before acknowledging
leaves its messages to be redelivered after ``ack_wait``; the pipeline is idempotent by item id (an item
stored without its detection is scored when it comes again)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import nats
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from vigil.config import Config
from vigil.core.detector import Detector
from vigil.core.model import Item, Quarantined
from vigil.errors import RecordError, VigilError
from vigil.ingest.messages import decode_item, durable_of, encode_item, subject_of
from vigil.ingest.pipeline import BatchResult, Pipeline
from vigil.store import Store

log = logging.getLogger(__name__)


class QueueError(VigilError):
    """The queue server cannot be reached or refuses the request."""


async def connect(config: Config) -> tuple[Any, JetStreamContext]:
    try:
        nc = await nats.connect(config.queue_url, connect_timeout=5, max_reconnect_attempts=3)
    except (OSError, NatsTimeout, nats.errors.NoServersError) as exc:
        raise QueueError(f"cannot reach {config.queue_url}: {exc}") from exc
    js = nc.jetstream()
    await ensure_stream(js, config.queue_stream)
    return nc, js


async def ensure_stream(js: JetStreamContext, stream: str) -> None:
    try:
        await js.stream_info(stream)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=stream,
                subjects=[subject_of(stream)],
                retention=RetentionPolicy.WORK_QUEUE,
                storage=StorageType.FILE,
                duplicate_window=120.0,
            )
        )


async def delete_stream(config: Config) -> None:
    nc = await nats.connect(config.queue_url, connect_timeout=5)
    try:
        await nc.jetstream().delete_stream(config.queue_stream)
    except NotFoundError:
        pass
    finally:
        await nc.close()


class JetStreamPublisher:
    """A BatchProcessor that publishes instead of processing (sync API; its own event loop)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.subject = subject_of(config.queue_stream)
        self.published = 0
        self._loop = asyncio.new_event_loop()
        self._lock = threading.Lock()
        self._nc: Any = None
        self._js: JetStreamContext | None = None

    def process(self, batch: Sequence[Item]) -> BatchResult:
        with self._lock:
            self._loop.run_until_complete(self._publish(batch))
        return BatchResult()

    async def _publish(self, batch: Sequence[Item]) -> None:
        if self._js is None:
            self._nc, self._js = await connect(self.config)
        for item in batch:
            await self._js.publish(self.subject, encode_item(item), headers={"Nats-Msg-Id": item.id})
            self.published += 1

    def close(self) -> None:
        with self._lock:
            if self._nc is not None:
                self._loop.run_until_complete(self._nc.flush())
                self._loop.run_until_complete(self._nc.close())
            self._loop.close()


@dataclass(slots=True)
class WorkerStats:
    batches: int = 0
    messages: int = 0
    new_items: int = 0
    detections: int = 0
    cases: int = 0
    redelivered: int = 0
    bad: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


async def run_worker(
    config: Config,
    store: Store,
    detectors: Sequence[Detector],
    stop: asyncio.Event,
    batch: int = 50,
    idle_exit: float | None = None,
    pause_before_ack: float = 0.0,
    on_batch: Callable[[WorkerStats], None] | None = None,
) -> WorkerStats:
    """Pull, store and detect, then acknowledge, until ``stop`` is set (or the queue stays empty for
    ``idle_exit`` seconds). ``pause_before_ack`` widens the window between commit and ack, for tests that
    kill a worker there."""
    nc, js = await connect(config)
    stats = WorkerStats()
    pipeline = Pipeline(store, detectors)
    sub = await js.pull_subscribe(
        subject_of(config.queue_stream),
        durable=durable_of(config.queue_stream),
        config=ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT, ack_wait=config.queue_ack_wait, max_ack_pending=10_000
        ),
    )
    loop = asyncio.get_running_loop()
    idle_since = loop.time()
    try:
        while not stop.is_set():
            try:
                msgs = await sub.fetch(batch, timeout=1.0)
            except (NatsTimeout, TimeoutError):
                if idle_exit is not None and loop.time() - idle_since >= idle_exit:
                    break
                continue
            items: list[Item] = []
            bad: list[Quarantined] = []
            for msg in msgs:
                try:
                    items.append(decode_item(msg.data))
                    if msg.metadata.num_delivered and msg.metadata.num_delivered > 1:
                        stats.redelivered += 1
                except RecordError as exc:
                    where = f"stream seq {msg.metadata.sequence.stream}"
                    bad.append(Quarantined(f"queue:{config.queue_stream}", where, exc.reason, ""))
            if bad:
                await asyncio.to_thread(store.add_quarantined, bad)
            result = await asyncio.to_thread(pipeline.process, items)
            if pause_before_ack:
                await asyncio.sleep(pause_before_ack)
            await asyncio.gather(*(msg.ack_sync() for msg in msgs))
            stats.batches += 1
            stats.messages += len(msgs)
            stats.bad += len(bad)
            stats.new_items += result.new_items
            stats.detections += result.detections
            stats.cases += result.cases
            idle_since = loop.time()
            if on_batch:
                on_batch(stats)
    finally:
        # Every message handled has been acknowledged (ack_sync); the rest are redelivered. Nothing to
        # drain, and draining a pull subscription can wait out its whole time-out.
        await nc.close()
    return stats
