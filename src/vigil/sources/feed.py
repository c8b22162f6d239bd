"""RSS 2.0 (and RSS 1.0/RDF) and Atom feeds, parsed incrementally with defusedxml.

Entity declarations (billion laughs), external entities and DTD tricks are refused: the feed is reported
as quarantined with the reason, and the scan goes on. Entries with HTML keep it; their text is extracted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from vigil.core.model import Account, Item, Origin, Quarantined, make_item_id
from vigil.sources.base import Record, Source, SourceContext, detect_bom, excerpt
from vigil.sources.html import html_to_text, links_and_images
from vigil.sources.records import parse_date

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_RSS = "{http://search.yahoo.com/mrss/}"
_ENTRY_TAGS = {"item", "entry"}
_FEED_TAGS = {"channel", "feed"}


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(el: Element, *names: str) -> Element | None:
    for child in el:
        if _local(child.tag) in names:
            return child
    return None


def _text(el: Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def _inner_xml(el: Element) -> str:
    """The markup inside an element (Atom ``type="xhtml"`` content)."""
    parts = [el.text or ""]
    for child in el:
        parts.append(tostring(child, encoding="unicode"))
    return "".join(parts)


class FeedSource(Source):
    name = "feed"

    def sniff(self, path: Path, head: bytes) -> float:
        enc, skip = detect_bom(head)
        text = head[skip:].decode(enc, "ignore")[:4096].lower()
        if not text.lstrip().startswith("<"):
            return 0.0
        if "<rss" in text or "<rdf:rdf" in text or ("<feed" in text and ATOM.lower() in text):
            return 0.9
        return 0.3 if path.suffix.lower() in {".rss", ".atom", ".xml"} else 0.0

    def read(self, path: Path, ctx: SourceContext) -> Iterator[Record]:
        source = str(path)
        if path.stat().st_size > ctx.max_file_bytes:
            yield Quarantined(source, "file", f"file larger than {ctx.max_file_bytes} bytes; not read")
            return
        feed: dict[str, str] = {}
        stack: list[str] = []
        n = 0
        try:
            with path.open("rb") as fh:
                for event, el in iterparse(fh, events=("start", "end")):
                    tag = _local(el.tag)
                    if event == "start":
                        stack.append(tag)
                        continue
                    stack.pop()
                    parent = stack[-1] if stack else ""
                    if parent in _FEED_TAGS and tag in {"title", "link", "id"} and tag not in feed:
                        value = el.get("href") if tag == "link" and el.get("href") else _text(el)
                        if value:
                            feed[tag] = value
                    if tag in _ENTRY_TAGS and parent in (_FEED_TAGS | {"RDF"}):
                        n += 1
                        yield self._entry(el, feed, source, n, ctx)
                        el.clear()
        except DefusedXmlException as exc:
            yield Quarantined(source, "document", f"refused unsafe XML: {type(exc).__name__}: {exc}")
        except ParseError as exc:
            line = getattr(exc, "position", (0, 0))[0]
            yield Quarantined(source, f"line {line}", f"malformed XML after {n} entries: {exc}")
        except UnicodeDecodeError as exc:
            yield Quarantined(source, "document", f"wrong encoding after {n} entries: {exc.reason}")

    def _entry(self, el: Element, feed: dict[str, str], source: str, n: int, ctx: SourceContext) -> Record:
        where = f"entry {n}"
        atom = _local(el.tag) == "entry"
        title = _text(_child(el, "title"))
        guid = _text(_child(el, "guid", "id"))
        link = _link(el) if atom else _text(_child(el, "link"))
        if guid:
            where = f"entry {n} ({guid[:120]})"
        html = _content_html(el, atom)
        body = html_to_text(html) if html and "<" in html else (html or "")
        if not title and not body.strip():
            return Quarantined(source, where, "entry has neither a title nor content", excerpt(tostring(el)))
        if len(body) + len(html or "") > ctx.max_record_bytes:
            return Quarantined(source, where, f"entry longer than {ctx.max_record_bytes} characters")
        text = f"{title}\n\n{body}".strip() if body and body.strip() != title else title
        links, images = links_and_images(html, link or feed.get("link")) if html and "<" in html else ([], [])
        date = _text(_child(el, "pubDate", "published", "updated", "date"))
        author = _author(el)
        meta: dict[str, Any] = {"feed": feed.get("title", ""), "title": title}
        if images:
            meta["images"] = images
        enclosures = [
            {"url": e.get("url") or e.get("href"), "type": e.get("type")}
            for e in el
            if _local(e.tag) == "enclosure" or (_local(e.tag) == "link" and e.get("rel") == "enclosure")
        ] + _media_rss(el)
        if enclosures:
            meta["enclosures"] = enclosures
        categories = [c.get("term") or _text(c) for c in el if _local(c.tag) == "category"]
        if categories:
            meta["categories"] = [c for c in categories if c]
        native = guid or link or None
        feed_key = feed.get("id") or feed.get("link") or ""
        key = f"{feed_key}|{native}" if native else None
        return Item(
            id=make_item_id(self.name, key, text, link),
            source=self.name,
            text=text,
            native_id=key,
            html=html if html and "<" in html else None,
            url=link or None,
            account=Account("feed", handle=author) if author else None,
            channel=Account(
                "feed", native_id=feed_key or None, display_name=feed.get("title"), is_channel=True
            )
            if feed_key
            else None,
            published=parse_date(date),
            links=links,
            origin=Origin(source, where, self.name),
            meta=meta,
        )


def _media_rss(entry: Element) -> list[dict[str, str | None]]:
    """Media RSS ``media:content`` and ``media:thumbnail``, directly in the entry or in a ``media:group``."""
    found: list[dict[str, str | None]] = []
    for child in entry:
        if not isinstance(child.tag, str) or not child.tag.startswith(MEDIA_RSS):
            continue
        nodes = list(child) if child.tag == MEDIA_RSS + "group" else [child]
        for node in nodes:
            if node.tag in (MEDIA_RSS + "content", MEDIA_RSS + "thumbnail") and node.get("url"):
                kind = "thumbnail" if node.tag.endswith("thumbnail") else node.get("medium")
                found.append({"url": node.get("url"), "type": node.get("type"), "medium": kind})
    return found


def _link(entry: Element) -> str:
    best = ""
    for child in entry:
        if _local(child.tag) == "link" and child.get("href"):
            if child.get("rel", "alternate") == "alternate":
                return child.get("href", "")
            best = best or child.get("href", "")
    return best


def _content_html(el: Element, atom: bool) -> str:
    if atom:
        for name in ("content", "summary"):
            node = _child(el, name)
            if node is None:
                continue
            kind = node.get("type", "text")
            if kind == "xhtml":
                return _inner_xml(node)
            value = node.text or ""
            if value.strip():
                return value if kind == "html" or "<" in value else value.strip()
        return ""
    encoded = _child(el, "encoded")
    if encoded is not None and (encoded.text or "").strip():
        return encoded.text or ""
    description = _child(el, "description")
    return (description.text or "") if description is not None else ""


def _author(el: Element) -> str:
    node = _child(el, "author", "creator")
    if node is None:
        return ""
    name = _child(node, "name")
    return _text(name) if name is not None else _text(node)
