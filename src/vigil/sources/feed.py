"""RSS 2.0 (and 0.9x, RSS 1.0/RDF, Microsoft CDF) and Atom (1.0 and 0.3) feeds, parsed incrementally.

The document is read in the encoding its bytes are really in, transcoded to UTF-8 with HTML named
entities made numeric (``vigil.sources.xmltext``), and parsed with defusedxml: entity declarations
(billion laughs), external entities and DTD tricks are refused and the feed quarantined with the reason.
A document that is otherwise not well-formed (truncated, a stray ``&``) is quarantined with where it
breaks, and the entries after the break are recovered with lxml's lenient parser (entities never
resolved, no network), as feedparser's loose parser does; they carry ``meta.xml_recovered``.

An entry is every ``item``/``entry`` element (RSS, RDF, Atom or no namespace, any case) that is not
inside another entry, with or without a ``<channel>`` around it. Titles and content in HTML or XHTML
become text (markup kept in ``html``; scripts never reach the text). An entry with no text but an image
or video (enclosure, Media RSS) becomes an item that carries its media URLs, so that hash matching sees
them once they are fetched.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError, tostring

import lxml.etree
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from vigil.core.model import Account, Item, Origin, Quarantined, make_item_id
from vigil.sources.base import Record, Source, SourceContext, detect_bom, excerpt
from vigil.sources.html import html_to_text, links_and_images
from vigil.sources.records import parse_date
from vigil.sources.xmltext import Encoding, detect, open_utf8

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_RSS = "{http://search.yahoo.com/mrss/}"
_ENTRY_TAGS = {"item", "entry"}
_FEED_TAGS = {"channel", "feed"}
#: Namespaces whose item/entry elements are feed entries (others, e.g. ``foo:item``, are extensions).
_ENTRY_NAMESPACES = frozenset(
    {
        "",
        ATOM,
        "http://purl.org/atom/ns#",
        "http://purl.org/rss/1.0/",
        "http://my.netscape.com/rdf/simple/0.9/",
        "http://backend.userland.com/rss2",
        "http://blogs.law.harvard.edu/tech/rss",
    }
)
_XHTML_TYPES = {"xhtml", "application/xhtml+xml"}
_XHTML_NS = "{http://www.w3.org/1999/xhtml}"
_HTML_TYPES = {"html", "text/html"}
_MARKUP = re.compile(r"<\s*[A-Za-z!/?]")
#: Where an RSS entry's content may be, best first (local names; ``summary`` is also itunes:summary).
_CONTENT_NAMES = ("encoded", "body", "description", "summary", "abstract", "subtitle")


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _namespace(tag: Any) -> str:
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def _child(el: Any, *names: str) -> Any:
    for child in el:
        if _local(child.tag) in names:
            return child
    return None


def _text(el: Any) -> str:
    return (el.text or "").strip() if el is not None else ""


def _tostring(el: Any) -> str:
    if isinstance(el, lxml.etree._Element):
        return lxml.etree.tostring(el, encoding="unicode", with_tail=True)
    return tostring(el, encoding="unicode")


def _inner_xml(el: Any) -> str:
    """The markup inside an element (Atom ``type="xhtml"`` content, unescaped HTML in RSS), with XHTML's
    namespace dropped from the tags so that an HTML parser knows them (a ``script`` stays a script)."""
    parts = [el.text or ""]
    for child in el:
        for node in child.iter():
            if isinstance(node.tag, str) and node.tag.startswith(_XHTML_NS):
                node.tag = node.tag[len(_XHTML_NS) :]
        parts.append(_tostring(child))
    return "".join(parts)


def _is_html(value: str) -> bool:
    return bool(_MARKUP.search(value))


def _as_text(node: Any, atom: bool) -> tuple[str, str | None]:
    """(plain text, markup or None) of a title/content element, by its type and what it holds."""
    kind = (node.get("type") or "").strip().lower()
    if node.get("mode") == "base64":
        try:
            raw = base64.b64decode(node.text or "", validate=False).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            raw = node.text or ""
        return (html_to_text(raw), raw) if _is_html(raw) else (raw.strip(), None)
    if kind in _XHTML_TYPES or len(node):
        markup = _inner_xml(node)
        return html_to_text(markup), markup
    value = node.text or ""
    if kind in _HTML_TYPES or ((not atom or kind not in {"text", "text/plain"}) and _is_html(value)):
        return html_to_text(value), value
    return value.strip(), None


class FeedSource(Source):
    name = "feed"

    def sniff(self, path: Path, head: bytes) -> float:
        enc, skip = detect_bom(head)
        text = head[skip:].decode(enc, "ignore")[:4096].lower()
        if not text.lstrip().startswith("<"):
            return 0.0
        if "<rss" in text or "<rdf:rdf" in text or ("<feed" in text and ATOM.lower() in text):
            return 0.9
        if "<feed" in text or "<channel" in text:
            return 0.6
        return 0.3 if path.suffix.lower() in {".rss", ".atom", ".xml", ".rdf", ".cdf"} else 0.0

    def read(self, path: Path, ctx: SourceContext) -> Iterator[Record]:
        source = str(path)
        if path.stat().st_size > ctx.max_file_bytes:
            yield Quarantined(source, "file", f"file larger than {ctx.max_file_bytes} bytes; not read")
            return
        encoding = detect(path)
        reader = _EntryReader(self, source, ctx, encoding)
        stream = open_utf8(path, encoding)
        try:
            for event, el in iterparse(stream, events=("start", "end")):
                yield from reader.event(event, el)
        except DefusedXmlException as exc:
            yield Quarantined(source, "document", f"refused unsafe XML: {type(exc).__name__}: {exc}")
            return
        except ParseError as exc:
            line = getattr(exc, "position", (0, 0))[0]
            yield from self._recover(path, source, line, str(exc), reader, encoding)
        finally:
            stream.raw.close()

    def _recover(
        self, path: Path, source: str, line: int, error: str, strict: _EntryReader, encoding: Encoding
    ) -> Iterator[Record]:
        """Entries after a break, read leniently; the break itself is quarantined with its reason."""
        seen = strict.n
        lenient = _EntryReader(self, source, strict.ctx, encoding, skip=seen, recovered=error)
        stream = open_utf8(path, encoding)
        try:
            events = lxml.etree.iterparse(
                stream,
                events=("start", "end"),
                recover=True,
                resolve_entities=False,
                no_network=True,
                load_dtd=False,
                huge_tree=False,
            )
            for event, el in events:
                yield from lenient.event(event, el)
        except lxml.etree.LxmlError:
            pass  # nothing more can be recovered: what was is kept
        finally:
            stream.raw.close()
        more = lenient.n - seen
        tail = f"; {more} more entries recovered by the lenient parser" if more > 0 else ""
        yield Quarantined(source, f"line {line}", f"malformed XML after {seen} entries: {error}{tail}")


class _EntryReader:
    """Turns parse events (ElementTree's or lxml's) into entries, with the feed's title, link and id."""

    def __init__(
        self,
        src: FeedSource,
        source: str,
        ctx: SourceContext,
        encoding: Encoding,
        skip: int = 0,
        recovered: str | None = None,
    ) -> None:
        self.src, self.source, self.ctx, self.encoding = src, source, ctx, encoding
        self.feed: dict[str, str] = {}
        self.stack: list[str] = []
        self.inside = 0  # how many entries the current element is in
        self.n = 0
        self.skip = skip
        self.recovered = recovered

    def event(self, event: str, el: Any) -> Iterator[Record]:
        tag = _local(el.tag)
        is_entry = tag in _ENTRY_TAGS and _namespace(el.tag) in _ENTRY_NAMESPACES
        if event == "start":
            self.stack.append(tag)
            if is_entry:
                self.inside += 1
            return
        if self.stack:
            self.stack.pop()
        parent = self.stack[-1] if self.stack else ""
        if parent in _FEED_TAGS and tag in {"title", "link", "id"} and tag not in self.feed:
            value = el.get("href") if tag == "link" and el.get("href") else _text(el)
            if value:
                self.feed[tag] = value
        if is_entry:
            self.inside -= 1
            if self.inside == 0:
                self.n += 1
                if self.n > self.skip:
                    yield self._entry(el)
                el.clear()

    def _entry(self, el: Any) -> Record:
        n, source = self.n, self.source
        where = f"entry {n}"
        atom = _local(el.tag) == "entry"
        title_node = _child(el, "title")
        title, title_html = _as_text(title_node, atom) if title_node is not None else ("", None)
        title = " ".join(title.split())
        guid = _text(_child(el, "guid", "id"))
        link = _link(el) if atom else (_text(_child(el, "link")) or el.get("href") or el.get("HREF") or "")
        if guid:
            where = f"entry {n} ({guid[:120]})"
        body, html = _content(el, atom)
        enclosures = _enclosures(el)
        if not title and not body.strip() and not enclosures:
            return Quarantined(
                source, where, "entry has neither a title, nor content, nor media", excerpt(_tostring(el))
            )
        if len(body) + len(html or "") > self.ctx.max_record_bytes:
            return Quarantined(source, where, f"entry longer than {self.ctx.max_record_bytes} characters")
        text = f"{title}\n\n{body}".strip() if body and body.strip() != title else title
        links, images = links_and_images(html, link or self.feed.get("link")) if html else ([], [])
        date = _text(_child(el, "pubdate", "published", "updated", "date", "issued", "modified"))
        date = date or el.get("LASTMOD") or el.get("lastmod") or ""
        author = _author(el)
        meta: dict[str, Any] = {"feed": self.feed.get("title", ""), "title": title}
        if title_html:
            meta["title_html"] = title_html[:2000]
        if images:
            meta["images"] = images
        if enclosures:
            meta["enclosures"] = enclosures
        categories = [c.get("term") or _text(c) for c in el if _local(c.tag) == "category"]
        if categories:
            meta["categories"] = [c for c in categories if c]
        if self.encoding.note:
            meta["encoding"] = self.encoding.note
        if self.recovered:
            meta["xml_recovered"] = self.recovered[:300]
        native = guid or link or None
        feed_key = self.feed.get("id") or self.feed.get("link") or ""
        key = f"{feed_key}|{native}" if native else None
        name = self.src.name
        return Item(
            id=make_item_id(name, key, text, link or _first_url(enclosures)),
            source=name,
            text=text,
            native_id=key,
            html=html,
            url=link or None,
            account=Account("feed", handle=author) if author else None,
            channel=Account(
                "feed", native_id=feed_key or None, display_name=self.feed.get("title"), is_channel=True
            )
            if feed_key
            else None,
            published=parse_date(date),
            links=links,
            origin=Origin(source, where, name),
            meta=meta,
        )


def _first_url(enclosures: list[dict[str, str | None]]) -> str | None:
    return next((e["url"] for e in enclosures if e.get("url")), None)


def _enclosures(el: Any) -> list[dict[str, str | None]]:
    found = [
        {"url": e.get("url") or e.get("href"), "type": e.get("type")}
        for e in el
        if _local(e.tag) == "enclosure" or (_local(e.tag) == "link" and e.get("rel") == "enclosure")
    ] + _media_rss(el)
    return [e for e in found if e.get("url")]


def _media_rss(entry: Any) -> list[dict[str, str | None]]:
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


def _link(entry: Any) -> str:
    best = ""
    for child in entry:
        if _local(child.tag) == "link" and child.get("href"):
            if child.get("rel", "alternate") == "alternate":
                return child.get("href", "")
            best = best or child.get("href", "")
    return best


def _content(el: Any, atom: bool) -> tuple[str, str | None]:
    """(text, markup or None) of an entry's content: the first of its content elements that has any."""
    names = ("content", "summary") if atom else _CONTENT_NAMES
    nodes = [c for c in el if _local(c.tag) in names and not _namespace(c.tag).endswith("/mrss/")]
    nodes.sort(key=lambda c: names.index(_local(c.tag)))
    if not atom:  # Media RSS descriptions, also inside a media:group, come last
        for child in el:
            if isinstance(child.tag, str) and child.tag.startswith(MEDIA_RSS):
                group = list(child) if child.tag == MEDIA_RSS + "group" else [child]
                nodes.extend(c for c in group if c.tag == MEDIA_RSS + "description")
    for node in nodes:
        text, markup = _as_text(node, atom)
        if text.strip():
            return text, markup
    return "", None


def _author(el: Any) -> str:
    node = _child(el, "author", "creator")
    if node is None:
        return ""
    name = _child(node, "name")
    return _text(name) if name is not None else _text(node)
