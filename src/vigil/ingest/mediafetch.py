"""Media that items reference by URL (``vigil.sources.mediarefs``), fetched for hash matching.

Every fetch is the crawler's (``vigil.net.client``): the SSRF guard on every hop after DNS, robots.txt
before every hop, per-host politeness, a time-out, and ``max_media_bytes`` (Content-Length and streamed
bytes). Only image/video (or untyped) responses are read; the bytes must then pass
``vigil.hashing.mediatype`` (magic bytes agreeing with the declared type, images fully decodable within
the pixel limit). What passes is stored content-addressed under ``media/`` (as loose files are) and
attached to the item as Media, so the hash detectors see it; the URL goes into ``fetched_media`` so that
no later scan fetches it again. Each outcome, failures with their reason, is kept in the item's
``meta.media_fetch``; a failure never stops the scan. Items already in the store and scored are not
fetched for; an item stored by a run that died before scoring it gets its media again (from
``fetched_media``, without a request), so that the rescan scores it as the first run would have.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from vigil.config import Config
from vigil.core.model import Item, Media, utcnow
from vigil.errors import RecordError
from vigil.hashing.mediatype import check_media, is_media_type
from vigil.ingest.tables import fetched_media
from vigil.net.client import Fetched, FetchSettings, PoliteFetcher
from vigil.net.download import file_name
from vigil.net.guard import AddressResolver
from vigil.sources.mediarefs import media_urls
from vigil.store import Store
from vigil.store.bulk import insert_new
from vigil.store.media import MediaSink, media_kind
from vigil.store.schema import items

#: Fetches in flight at once over all hosts (each host also has the PoliteFetcher's own limit).
PARALLEL = 8


@dataclass(slots=True)
class Outcome:
    """One URL's result: the Media kept, or why not, and what goes on the item's record."""

    url: str
    media: Media | None
    record: dict[str, Any]


@dataclass(slots=True)
class FetchFailure:
    item: Item
    url: str
    reason: str


@dataclass(slots=True)
class MediaFetchStats:
    fetched: int = 0
    cached: int = 0
    failures: list[FetchFailure] = field(default_factory=list)


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


class MediaFetcher:
    def __init__(self, config: Config, store: Store, resolver: AddressResolver | None = None) -> None:
        self.config = config
        self.store = store
        self.resolver = resolver
        self.sink = MediaSink(config.media_dir)
        self.settings = FetchSettings(
            max_bytes=config.max_media_bytes, timeout=config.http_timeout, delay=config.media_fetch_delay
        )

    def pending(self, batch: Sequence[Item]) -> int:
        """How many media URLs the batch references (what a scan without fetching leaves unfetched)."""
        return sum(len(media_urls(item, self.config.max_media_per_item)) for item in batch)

    def attach(self, batch: Sequence[Item]) -> MediaFetchStats:
        """Fetch (or find already fetched) the media of the batch's new items and attach them."""
        stats = MediaFetchStats()
        refs = {item.id: media_urls(item, self.config.max_media_per_item) for item in batch}
        refs = {k: v for k, v in refs.items() if v}
        if not refs:
            return stats
        done = self._scored_ids(list(refs))
        wanted = [item for item in batch if item.id in refs and item.id not in done]
        urls = list(dict.fromkeys(u for item in wanted for u in refs[item.id]))
        if not urls:
            return stats
        outcomes = self._cached(urls)
        stats.cached = len(outcomes)
        missing = [u for u in urls if u not in outcomes]
        if missing:
            fresh = asyncio.run(self._fetch_all(missing))
            self._remember([o for o in fresh if o.media is not None])
            stats.fetched = sum(o.media is not None for o in fresh)
            outcomes.update({o.url: o for o in fresh})
        for item in wanted:
            records = item.meta.setdefault("media_fetch", [])
            for url in refs[item.id]:
                outcome = outcomes[url]
                records.append(outcome.record)
                if outcome.media is None:
                    stats.failures.append(FetchFailure(item, url, outcome.record["error"]))
                elif all(m.sha256 != outcome.media.sha256 for m in item.media):
                    item.media.append(outcome.media)
        return stats

    def _scored_ids(self, ids: list[str]) -> set[str]:
        """Of ``ids``, the items stored with their detection (what a rescan has nothing left to do for)."""
        found: set[str] = set()
        with self.store.read() as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                query = select(items.c.id).where(items.c.id.in_(chunk), items.c.detected_at.is_not(None))
                found.update(conn.execute(query).scalars())
        return found

    def _cached(self, urls: list[str]) -> dict[str, Outcome]:
        keys = {url_key(u): u for u in urls}
        key_list = list(keys)
        out: dict[str, Outcome] = {}
        with self.store.read() as conn:
            for start in range(0, len(key_list), 500):
                chunk = key_list[start : start + 500]
                rows = conn.execute(
                    select(fetched_media).where(fetched_media.c.url_key.in_(chunk))
                ).mappings()
                for row in rows:
                    if not self.sink.path_for(row["sha256"]).is_file():
                        continue  # the bytes were removed (retention): fetch again
                    url = keys[row["url_key"]]
                    media = Media(
                        row["sha256"], row["mime"], row["size"], file_name(url), url, media_kind(row["mime"])
                    )
                    record = {
                        "url": url,
                        "ok": True,
                        "sha256": media.sha256,
                        "mime": media.mime,
                        "cached": True,
                    }
                    out[url] = Outcome(url, media, record)
        return out

    def _remember(self, done: list[Outcome]) -> None:
        if not done:
            return
        now = utcnow()
        rows = [
            {
                "url_key": url_key(o.url),
                "url": o.url,
                "sha256": o.media.sha256,
                "mime": o.media.mime,
                "size": o.media.size,
                "final_url": o.record.get("final_url"),
                "address": o.record.get("address"),
                "redirects": o.record.get("redirects") or [],
                "fetched_at": now,
            }
            for o in done
            if o.media is not None
        ]
        with self.store.write() as conn:
            insert_new(conn, fetched_media, rows, "url_key")

    async def _fetch_all(self, urls: list[str]) -> list[Outcome]:
        gate = asyncio.Semaphore(PARALLEL)
        async with PoliteFetcher(self.config, self.settings, self.resolver) as fetcher:
            robots = fetcher.robots

            async def one(url: str) -> Outcome:
                async with gate:
                    got = await fetcher.get(url, accept=is_media_type, gate=robots.allowed)
                    return await asyncio.to_thread(self._keep, url, got)

            return list(await asyncio.gather(*(one(u) for u in urls)))

    def _keep(self, url: str, got: Fetched) -> Outcome:
        record: dict[str, Any] = {"url": url, "ok": False, "status": got.status or None}
        if got.final_url and got.final_url != url:
            record["final_url"] = got.final_url
        if got.redirects:
            record["redirects"] = got.redirects
        if got.address:
            record["address"] = got.address
        if not got.ok:
            record["error"] = got.error or f"HTTP {got.status}"
            if got.blocked:
                record["refused"] = True
            if got.excluded:
                record["robots"] = "excluded"
            return Outcome(url, None, record)
        try:
            mime = check_media(got.body, got.content_type)
        except RecordError as exc:
            record["error"] = exc.reason
            return Outcome(url, None, record)
        media = self.sink.put_bytes(got.body, file_name(got.final_url or url), mime, url=url)
        record.update(ok=True, sha256=media.sha256, mime=mime, size=media.size)
        return Outcome(url, media, record)
