"""Which media an item references by URL, as the sources record them: X/Twitter ``meta.media`` (photo
URLs, video previews and the first MP4 variant), feed ``meta.enclosures`` of an image or video type
(RSS enclosures, Atom enclosure links, Media RSS ``media:content``/``media:thumbnail``) and the images of
a feed entry's HTML, and a flat record's ``media_urls`` list (JSON Lines, CSV)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vigil.core.model import Item
from vigil.hashing.mediatype import is_media_type

#: Sources whose ``meta.images`` are live URLs of the post (a WARC page's are archived: not fetched).
_LIVE_IMAGES = frozenset({"feed"})


def media_urls(item: Item, limit: int) -> list[str]:
    """The http(s) media URLs of ``item``, each once, in the order found, at most ``limit``."""
    out: list[str] = []
    for url in _candidates(item):
        if url.lower().startswith(("http://", "https://")) and url not in out and len(url) <= 4096:
            out.append(url)
            if len(out) >= limit:
                break
    return out


def _candidates(item: Item) -> Iterator[str]:
    meta = item.meta if isinstance(item.meta, dict) else {}
    for entry in _list(meta.get("media")):
        if isinstance(entry, str):
            yield entry
        elif isinstance(entry, dict):
            if isinstance(entry.get("url"), str):
                yield entry["url"]
            yield from _first_mp4(entry.get("variants"))
    for enclosure in _list(meta.get("enclosures")):
        if isinstance(enclosure, dict) and isinstance(enclosure.get("url"), str):
            declared = str(enclosure.get("type") or "").lower()
            medium = str(enclosure.get("medium") or "").lower()
            if (not declared and medium in ("", "image", "video", "thumbnail")) or (
                declared and is_media_type(declared)
            ):
                yield enclosure["url"]
    if item.source in _LIVE_IMAGES:
        yield from (u for u in _list(meta.get("images")) if isinstance(u, str))
    yield from (u for u in _list(meta.get("media_urls")) if isinstance(u, str))


def _first_mp4(variants: Any) -> Iterator[str]:
    for url in _list(variants):
        if isinstance(url, str) and url.split("?", 1)[0].lower().endswith(".mp4"):
            yield url
            return


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
