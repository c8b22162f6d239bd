"""The composition root: how every face (the CLI, the HTTP app, workers) opens the store and builds the
pipeline, so the wiring is done once. The store gets the identity guard the configuration asks for
(pseudonymised accounts by default), detectors get a context with that store, and ingestion gets the
processor the configuration and the command choose (in process, Ray, or the NATS queue)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from vigil.config import Config
from vigil.core.detector import Detector
from vigil.detect import load_detectors
from vigil.detect.context import DetectorContext
from vigil.ingest.executors import close_processor, open_processor
from vigil.ingest.pipeline import BatchProcessor
from vigil.privacy.identities import guard_from_config
from vigil.store import Store


def open_store(config: Config, url: str | None = None, migrate_schema: bool = True) -> Store:
    """The store of ``config`` (or at ``url``), migrated, with the configured identity guard."""
    return Store.open(config, url=url, migrate_schema=migrate_schema, identities=guard_from_config(config))


@contextmanager
def store_session(config: Config) -> Iterator[Store]:
    store = open_store(config)
    try:
        yield store
    finally:
        store.close()


def detectors(config: Config, store: Store | None, names: tuple[str, ...] | None = None) -> list[Detector]:
    """The configured detectors (or ``names``), built with the pipeline's store and media."""
    return load_detectors(DetectorContext(config, store), names)


@contextmanager
def processor(
    config: Config, store: Store, found_by: list[Detector], executor: str = "local"
) -> Iterator[BatchProcessor]:
    """What ingestion hands its batches to (``vigil.ingest.executors``), closed at the end."""
    made = open_processor(config, store, found_by, executor)
    try:
        yield made
    finally:
        close_processor(made)
