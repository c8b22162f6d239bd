"""The crawler: breadth-first over pages, politely, each page handed to the normal pipeline as an Item.

Out-links are expanded: shorteners and redirects are followed to the end and the final URL is what is
crawled; links to file lockers and paste sites are fetched and kept as media of the page that links them.
Each URL is fetched once per crawl: every redirect hop is checked against what the crawl has fetched or
queued already (``_first_sight``), before it is requested, so a page reached by a link and by a redirect
(or a short link) is fetched once.
robots.txt is asked before every hop of every fetch (pages, redirects, short links and where they lead,
lockers, pastes, images, favicons) unless the operator overrode it for this crawl with a reason, which is
then recorded on each page and on each out-link fetched under it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

import httpx

from vigil.config import Config
from vigil.core.model import Item, Media
from vigil.crawl.outlinks import OutlinkRegistry
from vigil.crawl.page import canonical_url, page_item, parse_page, site_of
from vigil.ingest.pipeline import BatchProcessor
from vigil.net.client import Fetched, FetchSettings, PoliteFetcher, is_html
from vigil.net.guard import AddressResolver
from vigil.store.media import MediaSink

log = logging.getLogger(__name__)

MAX_ERRORS_LISTED = 1000
SAMPLED_PAGES_PER_SITE = 30


class CrawlProgress(Protocol):
    def task(self, name: str) -> None: ...
    def advance(self, n: int) -> None: ...


@dataclass(slots=True)
class CrawlSettings:
    max_pages: int = 100
    depth: int = 2
    same_site: bool = False
    #: Why robots.txt is not honoured for this crawl (None: it is honoured).
    robots_override: str | None = None
    fetch: FetchSettings = field(default_factory=FetchSettings)
    fetch_images: bool = True
    max_images_per_page: int = 20
    batch_size: int = 50
    workers: int = 8


@dataclass(slots=True)
class SitePage:
    url: str
    item_id: str
    html: str


@dataclass(slots=True)
class SiteSeen:
    """What the crawl saw of one site: the input of its mirror fingerprint."""

    site: str
    home: str
    pages: list[SitePage] = field(default_factory=list)
    page_count: int = 0
    media: set[str] = field(default_factory=set)
    outlinks: set[str] = field(default_factory=set)
    favicon_sha256: str | None = None
    tls: dict[str, Any] | None = None


@dataclass(slots=True)
class CrawlSummary:
    pages: int = 0
    new_items: int = 0
    detections: int = 0
    cases: int = 0
    media: int = 0
    robots_excluded: int = 0
    refused: int = 0
    skipped: int = 0
    expanded: int = 0
    robots_override: str | None = None
    errors: list[dict[str, str]] = field(default_factory=list)

    def error(self, url: str, reason: str) -> None:
        if len(self.errors) < MAX_ERRORS_LISTED:
            self.errors.append({"url": url, "reason": reason})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Crawler:
    def __init__(
        self,
        config: Config,
        sink: BatchProcessor,
        settings: CrawlSettings | None = None,
        resolver: AddressResolver | None = None,
        registry: OutlinkRegistry | None = None,
        progress: CrawlProgress | None = None,
    ) -> None:
        self.config = config
        self.sink = sink
        self.settings = settings or CrawlSettings()
        self.resolver = resolver
        self.registry = registry or OutlinkRegistry.load(config.home / "outlinks.yaml")
        self.progress = progress
        self.media_sink = MediaSink(config.media_dir)
        self.summary = CrawlSummary(robots_override=self.settings.robots_override)
        self.sites: dict[str, SiteSeen] = {}
        #: The first page of each site as an Item (what a mirror case is opened on).
        self.items: dict[str, Item] = {}
        self._scope: set[str] = set()
        self._queued: set[str] = set()
        self._claimed: set[str] = set()
        self._media_cache: dict[str, Media | None] = {}
        #: URLs (first hops) that robots.txt kept us from fetching, or from following to their end.
        self._excluded: set[str] = set()
        self._media_locks: dict[str, asyncio.Lock] = {}
        self._started = 0
        self._batch: list[Item] = []
        self._flush_lock = asyncio.Lock()

    def run(self, start_urls: Sequence[str]) -> CrawlSummary:
        return asyncio.run(self.crawl(start_urls))

    async def crawl(self, start_urls: Sequence[str]) -> CrawlSummary:
        queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
        for url in start_urls:
            canon = canonical_url(url)
            if canon is None:
                self.summary.error(url, "not an http(s) URL")
                continue
            self._scope.add(site_of(canon))
            self._queued.add(canon)
            queue.put_nowait((canon, 0))
        async with PoliteFetcher(self.config, self.settings.fetch, self.resolver) as fetcher:
            self.fetcher = fetcher
            self.robots = fetcher.robots
            workers = [asyncio.create_task(self._worker(queue)) for _ in range(max(1, self.settings.workers))]
            await queue.join()
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            await self._flush(force=True)
        return self.summary

    async def _worker(self, queue: asyncio.Queue[tuple[str, int]]) -> None:
        while True:
            url, depth = await queue.get()
            try:
                await self._visit(url, depth, queue)
            except Exception as exc:  # one page's bug must not end the crawl
                log.exception("crawl of %s failed", url)
                self.summary.error(url, f"internal error: {exc!r}")
            finally:
                queue.task_done()

    async def _visit(self, url: str, depth: int, queue: asyncio.Queue[tuple[str, int]]) -> None:
        if self._started >= self.settings.max_pages:
            self.summary.skipped += 1
            return
        if not await self._robots_allow(url):
            return
        self._started += 1
        got = await self.fetcher.get(url, accept=is_html, gate=self._gate, first=self._first_sight)
        if got.known:
            self.summary.skipped += 1  # redirected to a page fetched or queued already: fetched there
            return
        self._note_failure(got)
        if got.ok:
            await self._ingest(url, got, depth, queue)

    def _first_sight(self, hop: str) -> bool:
        """A redirect hop about to be requested: True (and remembered) when the crawl has neither fetched
        nor queued it, as a page or as media; False stops the fetch before it."""
        canon = canonical_url(hop)
        if canon is None:
            return True  # the fetch fails on it, with its reason
        if canon in self._queued or canon in self._media_cache:
            return False
        self._queued.add(canon)
        return True

    async def _robots_allow(self, url: str) -> bool:
        if await self._gate(url):
            return True
        self.summary.robots_excluded += 1
        return False

    async def _gate(self, url: str) -> bool:
        """May this hop be requested? (robots.txt of its origin, unless overridden for this crawl)"""
        return self.settings.robots_override is not None or await self.robots.allowed(url)

    async def _ingest(
        self, url: str, got: Fetched, depth: int, queue: asyncio.Queue[tuple[str, int]]
    ) -> None:
        final = canonical_url(got.final_url) or got.final_url
        if final in self._claimed:
            self.summary.skipped += 1  # reached twice through redirects
            return
        self._claimed.add(final)
        self._queued.add(final)
        html = got.body.decode(got.charset, "replace")
        parsed = await asyncio.to_thread(parse_page, html, final)
        site = self._site(final)
        media = await self._page_media(parsed.images, site) if self.settings.fetch_images else []
        outlinks: list[dict[str, Any]] = []
        for link in parsed.links:
            await self._follow(link, depth, queue, media, outlinks, site)
        meta = {
            "requested_url": url,
            "redirects": got.redirects,
            "status": got.status,
            "address": got.address,
            "content_type": got.content_type,
            "depth": depth,
            "outlinks": outlinks,
        }
        if got.tls:
            meta["tls"] = got.tls
            site.tls = site.tls or got.tls
        if self.settings.robots_override:
            meta["robots_override"] = self.settings.robots_override
        item = page_item(final, html, parsed, media, meta, self.config.max_record_bytes)
        site.page_count += 1
        if len(site.pages) < SAMPLED_PAGES_PER_SITE:
            site.pages.append(_site_page(final, item.id, html))
        if site.page_count == 1:
            self.items[item.id] = item
        site.media.update(m.sha256 for m in media)
        if site.favicon_sha256 is None:
            icon = parsed.favicon or f"{site.home.rstrip('/')}/favicon.ico"
            found = await self._media(icon, kind="favicon")
            site.favicon_sha256 = found.sha256 if found else ""
        self.summary.pages += 1
        if self.progress:
            self.progress.task(final)
            self.progress.advance(1)
        self._batch.append(item)
        await self._flush()

    async def _follow(
        self,
        link: str,
        depth: int,
        queue: asyncio.Queue[tuple[str, int]],
        media: list[Media],
        outlinks: list[dict[str, Any]],
        site: SiteSeen,
    ) -> None:
        kind = self.registry.kind(_host(link))
        if kind == "shortener":
            await self._expand(link, depth, queue, media, outlinks, site)
        elif kind in ("locker", "paste"):
            found = await self._media(link, kind=kind)
            outlinks.append(self._hop({"url": link, "kind": kind, "sha256": found.sha256 if found else None}))
            _add_media(media, found)
        else:
            self._enqueue(link, depth, queue, site)

    def _in_scope(self, url: str) -> bool:
        return not self.settings.same_site or site_of(url) in self._scope

    def _enqueue(self, link: str, depth: int, queue: asyncio.Queue[tuple[str, int]], site: SiteSeen) -> None:
        if site_of(link) != site.site:
            site.outlinks.add(site_of(link))
        if self._in_scope(link) and depth < self.settings.depth and link not in self._queued:
            self._queued.add(link)
            queue.put_nowait((link, depth + 1))

    async def _expand(
        self,
        link: str,
        depth: int,
        queue: asyncio.Queue[tuple[str, int]],
        media: list[Media],
        outlinks: list[dict[str, Any]],
        site: SiteSeen,
    ) -> None:
        """Follow a short link to its end, once per crawl. The final response is used as it is: a page in
        scope is ingested from it (no second fetch), a locker or paste is kept as media."""
        if link in self._queued:
            outlinks.append(self._hop({"url": link, "kind": "shortener"}))
            return
        self._queued.add(link)
        got = await self.fetcher.get(link, gate=self._gate, first=self._first_sight)
        self.summary.expanded += 1
        if got.excluded:
            self._excluded.add(link)
        end = canonical_url(got.final_url) if got.final_url else None
        end_kind = self.registry.kind(_host(end)) if end else None
        record: dict[str, Any] = {
            "url": link,
            "kind": "shortener",
            "final": end,
            "final_kind": end_kind,
            "chain": got.redirects,
            "error": got.error,
        }
        if got.known:
            record["known"] = True  # the end was fetched or queued already: not fetched again
        outlinks.append(self._hop(record))
        if got.known and end is not None:
            if site_of(end) != site.site:
                site.outlinks.add(site_of(end))
            _add_media(media, self._media_cache.get(end))
            return
        if not got.ok or end is None:
            self._note_failure(got)
            return
        if end_kind in ("locker", "paste"):
            found = self._keep_media(end, got)
            self._media_cache.setdefault(end, found)
            _add_media(media, found)
            return
        if site_of(end) != site.site:
            site.outlinks.add(site_of(end))
        wanted = self._in_scope(end) and depth < self.settings.depth and end not in self._claimed
        if not wanted and end not in self._claimed and end != link:
            self._queued.discard(end)  # out of scope or too deep from here: a link may still queue it
        if not wanted or not is_html(got.content_type):
            return
        if self._started >= self.settings.max_pages:
            self.summary.skipped += 1
            return
        self._started += 1
        await self._ingest(link, got, depth + 1, queue)

    async def _page_media(self, images: list[str], site: SiteSeen) -> list[Media]:
        found: list[Media] = []
        for url in images[: self.settings.max_images_per_page]:
            if site_of(url) != site.site:
                continue
            got = await self._media(url, kind="image")
            if got and all(m.sha256 != got.sha256 for m in found):
                found.append(got)
        return found

    async def _media(self, url: str, kind: str) -> Media | None:
        """Fetch a URL once per crawl and keep its bytes as media (content-addressed)."""
        async with self._media_locks.setdefault(url, asyncio.Lock()):
            if url in self._media_cache:
                return self._media_cache[url]
            got = await self.fetcher.get(url, gate=self._gate, first=self._first_media)
            if got.excluded:
                self._excluded.add(url)
            known = self._media_cache.get(canonical_url(got.final_url) or "") if got.known else None
            if got.known:  # redirected to media fetched already: the same bytes, under this URL
                found = replace(known, url=url) if known is not None else None
            else:
                found = self._keep_media(url, got)
            if found is None and kind != "favicon":
                self._note_failure(got)
            self._media_cache[url] = found
            return found

    def _first_media(self, hop: str) -> bool:
        """A redirect hop of a media fetch: False when that URL was fetched as media already."""
        return canonical_url(hop) not in self._media_cache

    def _keep_media(self, url: str, got: Fetched) -> Media | None:
        if not got.ok or not got.body:
            return None
        mime = got.content_type or "application/octet-stream"
        self.summary.media += 1
        return self.media_sink.put_bytes(got.body, _name(got.final_url), mime, url=url)

    def _site(self, url: str) -> SiteSeen:
        key = site_of(url)
        if key not in self.sites:
            scheme_host = url.split("/", 3)
            self.sites[key] = SiteSeen(key, "/".join(scheme_host[:3]) + "/")
        return self.sites[key]

    def _hop(self, outlink: dict[str, Any]) -> dict[str, Any]:
        """An out-link's record, with what robots.txt said of it: excluded, or overridden (and why)."""
        if outlink["url"] in self._excluded:
            outlink["robots"] = "excluded"
        elif self.settings.robots_override is not None:
            outlink["robots_override"] = self.settings.robots_override
        return outlink

    def _note_failure(self, got: Fetched) -> None:
        if got.error is None:
            return
        if got.excluded:
            self.summary.robots_excluded += 1
            return
        if got.blocked:
            self.summary.refused += 1
        self.summary.error(got.url, got.error)

    async def _flush(self, force: bool = False) -> None:
        if not self._batch or (len(self._batch) < self.settings.batch_size and not force):
            return
        async with self._flush_lock:
            batch, self._batch = self._batch, []
            if not batch:
                return
            result = await asyncio.to_thread(self.sink.process, batch)
            self.summary.new_items += result.new_items
            self.summary.detections += result.detections
            self.summary.cases += result.cases


def _host(url: str) -> str:
    return httpx.URL(url).host


def _add_media(media: list[Media], found: Media | None) -> None:
    if found is not None and all(m.sha256 != found.sha256 for m in media):
        media.append(found)


def _name(url: str) -> str | None:
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    return tail[:200] or None


def _site_page(url: str, item_id: str, html: str) -> SitePage:
    return SitePage(url, item_id, html[:500_000])
