"""One pass over the due sources, and ``serve``: passes until stopped. Each source is read with the
normal machinery (a crawl for sites; the source plug-ins through Scanner/discover for feeds, channel
exports and mailboxes) and its items go to the same pipeline or queue as everything else."""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vigil.config import Config
from vigil.core.detector import Detector
from vigil.core.model import Item, utcnow
from vigil.crawl.crawler import Crawler, CrawlSettings
from vigil.errors import SourceError, UsageError, VigilError
from vigil.ingest.pipeline import BatchProcessor, BatchResult, Pipeline
from vigil.ingest.scan import Scanner, ScanSummary
from vigil.mirrors.check import check_crawl
from vigil.net.client import FetchSettings
from vigil.net.download import download, is_url
from vigil.net.guard import AddressResolver
from vigil.store import Store
from vigil.watch.history import RunRecord, finish
from vigil.watch.lease import (
    DEFAULT_LEASE_S,
    MIN_LEASE_S,
    LeaseFence,
    LeaseLost,
    claim,
    kept_alive,
    new_owner,
    release_all,
)
from vigil.watch.registry import WatchSource, due_sources, next_due_in

log = logging.getLogger(__name__)


class SourceFailed(VigilError):
    """A watched source could not be read on this pass."""


@dataclass(slots=True)
class RunResult:
    source: str
    ok: bool
    items: int = 0
    new_items: int = 0
    cases: int = 0
    error: str | None = None
    retry_in_s: float | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FencedSink:
    """The runner's sink: before each batch is written, the lease of the run in progress is checked
    (``LeaseLost`` once it is gone), so a holder that lost its lease stops writing."""

    def __init__(self, inner: BatchProcessor) -> None:
        self.inner = inner
        self.fence: LeaseFence | None = None

    def process(self, batch: Sequence[Item]) -> BatchResult:
        if self.fence is not None:
            self.fence.check()
        return self.inner.process(batch)


class WatchRunner:
    def __init__(
        self,
        config: Config,
        store: Store,
        detectors: Sequence[Detector],
        sink: BatchProcessor | None = None,
        resolver: AddressResolver | None = None,
        lease_s: float = DEFAULT_LEASE_S,
        owner: str | None = None,
    ) -> None:
        if lease_s < MIN_LEASE_S:
            raise UsageError(f"the lease must last at least {MIN_LEASE_S} seconds")
        self.config = config
        self.store = store
        self.lease_s = lease_s
        #: This runner's name on the leases it takes (several runners share one store).
        self.owner = owner or new_owner()
        self.detectors = list(detectors)
        self.sink = sink or Pipeline(store, self.detectors)
        self.fenced = FencedSink(self.sink)
        self.resolver = resolver
        self.scanner = Scanner(config, store, self.detectors, pipeline=self.fenced, resolver=resolver)

    def run_due(self) -> list[RunResult]:
        """One pass: every due source this runner can lease (the others are someone else's now)."""
        results = []
        for source in due_sources(self.store):
            found = self.run_source(source)
            if found is not None:
                results.append(found)
        return results

    def run_source(self, source: WatchSource) -> RunResult | None:
        """Lease ``source``, read it, record the outcome and release the lease; None if it could not be
        leased (another process runs it, or it is no longer due)."""
        claimed = claim(self.store, source.id, self.owner, self.lease_s)
        if claimed is None:
            return None
        started_at, started = utcnow(), time.monotonic()
        result = RunResult(claimed.name, ok=True)
        state = claimed.state
        with kept_alive(self.store, claimed, self.owner, self.lease_s) as fence:
            self.fenced.fence = fence
            try:
                state = self._read(claimed, result)
                fence.check()  # the outcome is committed only while the lease holds (finish checks it too)
            except (SourceFailed, LeaseLost) as exc:
                result.ok, result.error = False, str(exc)
            except Exception as exc:  # a source must never stop the watch: record it, back off, go on
                log.exception("watched source %s failed", claimed.name)
                result.ok, result.error = False, f"internal error: {exc!r}"
            finally:
                self.fenced.fence = None
            if fence.lost.is_set():  # whatever the read made of the refused batches, this is why
                result.ok, result.error = False, "the lease was lost during the run; the run stopped"
        result.seconds = round(time.monotonic() - started, 3)
        run = RunRecord(
            started_at, utcnow(), result.ok, result.items, result.new_items, result.cases, result.error
        )
        result.retry_in_s = finish(self.store, claimed, run, state, self.owner)
        return result

    def _read(self, source: WatchSource, result: RunResult) -> dict[str, Any]:
        if source.kind == "site":
            return self._crawl(source, result)
        if is_url(source.target):
            return self._fetch_and_scan(source, result)
        path = Path(source.target)
        if not path.exists():
            raise SourceFailed(f"{source.target}: no such file or folder")
        self._scan(str(path), source, result)
        return source.state

    def _scan(self, target: str, source: WatchSource, result: RunResult) -> None:
        summary: ScanSummary = self.scanner.scan(target, source.fmt)
        result.items += summary.items
        result.new_items += summary.new_items
        result.cases += summary.cases
        whole = [e for e in summary.errors if not e["location"]]
        if whole and not summary.items:
            raise SourceFailed("; ".join(e["reason"] for e in whole[:3]))

    def _fetch_and_scan(self, source: WatchSource, result: RunResult) -> dict[str, Any]:
        """Conditional GET (ETag / Last-Modified), then the file goes through the source plug-ins."""
        state = dict(source.state)
        headers = {}
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("last-modified"):
            headers["If-Modified-Since"] = state["last-modified"]
        with tempfile.TemporaryDirectory(prefix="vigil-watch-") as tmp:
            try:
                got = download(source.target, Path(tmp), self.config, self.resolver, headers)
            except SourceError as exc:
                raise SourceFailed(f"{source.target}: {exc.reason}") from exc
            if got.path is not None:
                self._scan(str(got.path), source, result)
        return {**state, **got.fetched.validators}

    def _crawl(self, source: WatchSource, result: RunResult) -> dict[str, Any]:
        opts = source.options
        settings = CrawlSettings(
            max_pages=int(opts.get("max_pages", 50)),
            depth=int(opts.get("depth", 1)),
            same_site=bool(opts.get("same_site", True)),
            robots_override=source.robots_override,
            fetch=FetchSettings(
                timeout=self.config.http_timeout,
                delay=float(opts.get("delay", 1.0)),
                concurrency=int(opts.get("concurrency", 2)),
            ),
        )
        crawler = Crawler(self.config, self.fenced, settings, self.resolver)
        summary = crawler.run([source.target])
        result.items += summary.pages
        result.new_items += summary.new_items
        result.cases += summary.cases
        if summary.pages == 0:
            reasons = "; ".join(e["reason"] for e in summary.errors[:3]) or "no page could be read"
            raise SourceFailed(f"{source.target}: {reasons}")
        if self.fenced.fence is not None:
            self.fenced.fence.check()  # the mirror check writes too
        result.cases += len(check_crawl(self.store, Pipeline(self.store, self.detectors), crawler))
        return source.state

    def serve(
        self,
        stop: threading.Event,
        poll_s: float = 5.0,
        on_result: Callable[[RunResult], None] | None = None,
    ) -> int:
        """Run passes until ``stop`` is set; sleep until the next source is due (at most ``poll_s``, so that
        new sources are picked up). Returns the number of source runs. The source in progress finishes;
        then every lease this runner holds is released."""
        runs = 0
        try:
            while not stop.is_set():
                for source in due_sources(self.store):
                    if stop.is_set():
                        break
                    found = self.run_source(source)
                    if found is None:
                        continue
                    runs += 1
                    if on_result:
                        on_result(found)
                wait = next_due_in(self.store)  # the database's clock, as the leases and schedule use
                wait = poll_s if wait is None else wait
                stop.wait(min(max(wait, 0.05), poll_s))
        finally:
            release_all(self.store, self.owner)
        return runs
