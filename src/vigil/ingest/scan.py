"""``vigil scan``: discover, read, store, detect. Streams in batches; bad records are quarantined."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from vigil.config import Config
from vigil.core.detector import Detector
from vigil.core.model import Item, Quarantined, utcnow
from vigil.core.registry import SOURCES, plugin
from vigil.errors import SourceError, VigilError
from vigil.ingest.faults import checkpoint
from vigil.ingest.mediafetch import MediaFetcher
from vigil.ingest.pipeline import BatchProcessor, Pipeline
from vigil.net.download import download, is_url
from vigil.net.guard import AddressResolver
from vigil.sources.base import SourceContext
from vigil.sources.discover import discover
from vigil.sources.mediarefs import media_urls
from vigil.store import Store
from vigil.store.media import MediaSink

log = logging.getLogger(__name__)

BATCH = 500
MAX_ERRORS_LISTED = 10_000


class Progress(Protocol):
    def task(self, name: str) -> None: ...
    def advance(self, n: int) -> None: ...


class NoProgress:
    def task(self, name: str) -> None:
        pass

    def advance(self, n: int) -> None:
        pass


@dataclass(slots=True)
class ScanSummary:
    items: int = 0
    new_items: int = 0
    quarantined: int = 0
    detections: int = 0
    cases: int = 0
    #: Media referenced by URL: fetched now, found already fetched, failed (each failure in ``errors``),
    #: or left unfetched because fetching is off.
    media_fetched: int = 0
    media_cached: int = 0
    media_failed: int = 0
    media_not_fetched: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)

    def error(self, source: str, location: str, reason: str) -> None:
        if len(self.errors) < MAX_ERRORS_LISTED:
            self.errors.append({"source": source, "location": location, "reason": reason})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Scanner:
    def __init__(
        self,
        config: Config,
        store: Store,
        detectors: Sequence[Detector],
        pipeline: BatchProcessor | None = None,
        resolver: AddressResolver | None = None,
        fetch_media: bool | None = None,
    ) -> None:
        """``fetch_media`` (None: the configuration's ``fetch_media``) fetches the media that items
        reference by URL before detection (``vigil.ingest.mediafetch``)."""
        self.config = config
        self.store = store
        #: Host names to addresses for URL targets (None: DNS); the SSRF guard checks what it gives.
        self.resolver = resolver
        #: The in-process pipeline unless another executor or a queue is given.
        self.pipeline: BatchProcessor = pipeline or Pipeline(store, detectors)
        self.ctx = SourceContext(
            media=MediaSink(config.media_dir),
            max_record_bytes=config.max_record_bytes,
            max_file_bytes=config.max_file_bytes,
            max_decompressed_bytes=config.max_decompressed_bytes,
            max_media_bytes=config.max_media_bytes,
        )
        fetch = config.fetch_media if fetch_media is None else fetch_media
        self.media_fetcher = MediaFetcher(config, store, resolver) if fetch else None

    def scan(self, target: str, fmt: str | None = None, progress: Progress | None = None) -> ScanSummary:
        if fmt:
            plugin(SOURCES, fmt)  # an unknown format is a usage error, before anything is read
        progress = progress or NoProgress()
        summary = ScanSummary()
        url = is_url(target)
        if not url and not Path(target).exists():
            raise SourceError("no such file or folder", target)
        # Recorded when it starts, finished when it ends: a scan that died shows as unfinished.
        scan_id = self.store.start_scan(target, utcnow())
        checkpoint("scan-started")
        if url:
            self._scan_url(target, fmt, summary, progress)
        else:
            self._scan_path(Path(target), fmt, summary, progress)
        self.store.finish_scan(scan_id, {k: v for k, v in summary.to_dict().items() if k != "errors"})
        checkpoint("scan-finished")
        return summary

    def _scan_url(self, target: str, fmt: str | None, summary: ScanSummary, progress: Progress) -> None:
        with tempfile.TemporaryDirectory(prefix="vigil-fetch-") as tmp:
            try:
                got = download(target, Path(tmp), self.config, self.resolver)
            except SourceError as exc:
                summary.error(target, "", exc.reason)
                return
            if got.path is None:  # nothing conditional was asked: a 304 here is the server's error
                summary.error(target, "", "HTTP 304 to an unconditional request")
                return
            self._scan_path(got.path, fmt, summary, progress, display=target)

    def _scan_path(
        self,
        root: Path,
        fmt: str | None,
        summary: ScanSummary,
        progress: Progress,
        display: str | None = None,
    ) -> None:
        for task in discover(root, fmt):
            where = display or str(task.path)
            if task.source is None:
                summary.error(where, "", task.reason)
                continue
            progress.task(f"{task.source.name}: {task.path.name}")
            batch: list[Item] = []
            bad: list[Quarantined] = []
            try:
                for record in task.source.read(task.path, self.ctx):
                    if isinstance(record, Quarantined):
                        if display:
                            record.source = display
                        bad.append(record)
                        summary.quarantined += 1
                        summary.error(record.source, record.location, record.reason)
                    else:
                        batch.append(record)
                        if len(batch) >= BATCH:
                            self._flush(batch, bad, summary, progress, display)
                            batch, bad = [], []
            except SourceError as exc:
                summary.error(where, "", exc.reason)
            except VigilError as exc:
                summary.error(where, "", str(exc))
            except Exception as exc:  # a parser bug must not end the scan: report it, go on
                log.exception("source %s failed on %s", task.source.name, where)
                summary.error(where, "", f"internal error in source {task.source.name}: {exc!r}")
            self._flush(batch, bad, summary, progress, display)

    def _flush(
        self,
        batch: list[Item],
        bad: list[Quarantined],
        summary: ScanSummary,
        progress: Progress,
        display: str | None = None,
    ) -> None:
        if bad:
            self.store.add_quarantined(bad)  # once per (source, location): a rescan adds none again
            checkpoint("quarantined")
        if batch:
            self._media(batch, summary, display)
            checkpoint("media-done")
            try:
                self._count(self.pipeline.process(batch), summary)
                summary.items += len(batch)
            except VigilError:
                raise
            except Exception:
                # One bad item (a broken image a detector's decoder raises on) must not cost the batch nor
                # end the scan: process the items one by one and quarantine those that still fail.
                log.exception("batch of %d items failed; processing them one by one", len(batch))
                self._one_by_one(batch, summary, display)
        progress.advance(len(batch) + len(bad))

    @staticmethod
    def _count(result: Any, summary: ScanSummary) -> None:
        summary.new_items += result.new_items
        summary.detections += result.detections
        summary.cases += result.cases

    def _one_by_one(self, batch: list[Item], summary: ScanSummary, display: str | None) -> None:
        failed: list[Quarantined] = []
        for item in batch:
            try:
                self._count(self.pipeline.process([item]), summary)
                summary.items += 1
            except VigilError:
                raise
            except Exception as exc:
                log.exception("item %s failed", item.id)
                origin = item.origin
                source = display or (origin.source if origin else item.source)
                location = origin.location if origin else item.id
                reason = f"processing failed: {type(exc).__name__}: {str(exc)[:300]}"
                failed.append(Quarantined(source, location, reason, item.text[:200]))
                summary.quarantined += 1
                summary.error(source, location, reason)
        if failed:
            self.store.add_quarantined(failed)

    def _media(self, batch: list[Item], summary: ScanSummary, display: str | None) -> None:
        if self.media_fetcher is None:
            limit = self.config.max_media_per_item
            summary.media_not_fetched += sum(len(media_urls(item, limit)) for item in batch)
            return
        stats = self.media_fetcher.attach(batch)
        summary.media_fetched += stats.fetched
        summary.media_cached += stats.cached
        summary.media_failed += len(stats.failures)
        for failure in stats.failures:
            origin = failure.item.origin
            source = display or (origin.source if origin else failure.item.source)
            location = origin.location if origin else failure.item.id
            summary.error(source, location, f"media {failure.url}: {failure.reason}")
