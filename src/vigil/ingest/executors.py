"""Where detection runs, chosen in one place: in this process (the default), on a Ray cluster
(``--executor ray``), or on ``vigil worker`` processes behind NATS JetStream (``queue_url`` set: ingestion
only publishes). Every ingesting command (scan, crawl, watch) gets its processor here."""

from __future__ import annotations

from collections.abc import Sequence

from vigil.config import Config
from vigil.core.detector import Detector
from vigil.core.ports import ItemStore
from vigil.errors import UsageError
from vigil.ingest.pipeline import BatchProcessor, Pipeline

EXECUTORS = ("local", "ray")


def open_processor(
    config: Config, store: ItemStore, detectors: Sequence[Detector], executor: str = "local"
) -> BatchProcessor:
    """The processor ingestion hands its batches to. With ``queue_url`` set, batches are published to the
    queue and the workers detect; ``executor`` picks where detection runs otherwise."""
    if executor not in EXECUTORS:
        raise UsageError(f"unknown executor {executor!r}; known: {', '.join(EXECUTORS)}")
    if config.queue_url:
        if executor != "local":
            raise UsageError(
                f"queue_url is set ({config.queue_url}): detection runs on `vigil worker`, not {executor}"
            )
        from vigil.ingest.jetstream import JetStreamPublisher

        return JetStreamPublisher(config)
    if executor == "ray":
        from vigil.ingest.ray_executor import RayPipeline

        return RayPipeline(store, detectors)
    return Pipeline(store, detectors)


def close_processor(processor: BatchProcessor) -> None:
    close = getattr(processor, "close", None)
    if callable(close):
        close()
