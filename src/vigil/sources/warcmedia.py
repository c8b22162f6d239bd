"""Images and videos inside a WARC, linked to the pages of the same WARC that reference them (by URL).

A page waits (bounded: ``MAX_PENDING_PAGES`` pages, ``MAX_PENDING_BYTES`` of HTML) for the images it
references that the WARC has not reached yet; each one that arrives is attached to it as Media, so a hash
match opens a case on the page. An image no page has asked for yet waits until the end of the WARC (at
most ``MAX_ORPHANS``) for a page that does; one that no page takes becomes an item of its own, with the
URLs of the pages that referenced it when they had to be let go before it arrived.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from vigil.core.model import Item, Media

MAX_PENDING_PAGES = 200
MAX_PENDING_BYTES = 64 * 1024**2
MAX_ORPHANS = 5000
MAX_KNOWN = 100_000


@dataclass(slots=True)
class _Pending:
    page: Item
    waiting: set[str]
    size: int


@dataclass(slots=True)
class PageMediaLinker:
    pending: list[_Pending] = field(default_factory=list)
    pending_bytes: int = 0
    #: Media seen so far by URL, and the standalone items of those no page took yet.
    media: OrderedDict[str, Media] = field(default_factory=OrderedDict)
    orphans: OrderedDict[str, Item] = field(default_factory=OrderedDict)
    #: Pages already let go, by the image URLs they referenced.
    referenced: OrderedDict[str, list[str]] = field(default_factory=OrderedDict)

    def page(self, page: Item) -> list[Item]:
        """A page: attach the media already seen; hold it while some of its images are still to come."""
        images = [u for u in page.meta.get("images") or [] if isinstance(u, str)]
        waiting: set[str] = set()
        for url in images:
            found = self.media.get(url)
            if found is None:
                waiting.add(url)
                continue
            _attach(page, url, found)
            self.orphans.pop(url, None)
        if not waiting:
            return [page]
        size = len(page.html or "") + len(page.text)
        self.pending.append(_Pending(page, waiting, size))
        self.pending_bytes += size
        out: list[Item] = []
        while self.pending and (
            len(self.pending) > MAX_PENDING_PAGES or self.pending_bytes > MAX_PENDING_BYTES
        ):
            out.append(self._release(0))
        return out

    def image(self, url: str, media: Media, item: Item) -> list[Item]:
        """An image or video response (``item`` is its standalone item, used when no page takes it)."""
        _remember(self.media, url, media)
        out: list[Item] = []
        taken = False
        for n in range(len(self.pending) - 1, -1, -1):
            held = self.pending[n]
            if url in held.waiting:
                _attach(held.page, url, media)
                held.waiting.discard(url)
                taken = True
                if not held.waiting:
                    out.append(self._release(n))
        out.reverse()
        if taken:
            return out
        pages = self.referenced.get(url)
        if pages:
            item.meta["pages"] = pages
            return [*out, item]
        self.orphans[url] = item
        if len(self.orphans) > MAX_ORPHANS:
            out.append(self.orphans.popitem(last=False)[1])
        return out

    def finish(self) -> list[Item]:
        out = [self._release(0) for _ in range(len(self.pending))]
        out.extend(self.orphans.values())
        self.orphans.clear()
        return out

    def _release(self, n: int) -> Item:
        held = self.pending.pop(n)
        self.pending_bytes -= held.size
        for url in held.waiting:
            pages = self.referenced.setdefault(url, [])
            if len(pages) < 20 and held.page.url:
                pages.append(held.page.url)
            if len(self.referenced) > MAX_KNOWN:
                self.referenced.popitem(last=False)
        return held.page


def _attach(page: Item, url: str, media: Media) -> None:
    if all(m.sha256 != media.sha256 for m in page.media):
        page.media.append(media)
    linked: list[dict[str, Any]] = page.meta.setdefault("warc_media", [])
    linked.append({"url": url, "sha256": media.sha256})


def _remember(seen: OrderedDict[str, Media], url: str, media: Media) -> None:
    seen[url] = media
    if len(seen) > MAX_KNOWN:
        seen.popitem(last=False)
