"""WARC and WARC.gz: each ``response`` record with an HTML page becomes an Item (main text by trafilatura,
out-links and image URLs kept). Image and video responses (by declared type and magic bytes, checked by
``vigil.hashing.mediatype``, at most ``max_media_bytes``) are stored as media and attached to the pages of
the same WARC that reference them (``vigil.sources.warcmedia``), or become items of their own.

Decompression is bounded: a .warc.gz is inflated by warcio's member-aware reader, counting bytes, and
reading stops at ``max_decompressed_bytes`` (a gzip bomb is quarantined with its reason; what came before
is kept). A record with a wrong Content-Length loses only itself: its gzip member ends it, as in warcio. HTTP
bodies (chunked, gzip/deflate/brotli content-encoding) are bounded by ``max_record_bytes``. A truncated
record is quarantined with its offset and WARC-Record-ID.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader, ChunkedDataReader, DecompressingBufferedReader
from warcio.exceptions import ArchiveLoadFailed

from vigil.core.model import Item, Media, Origin, Quarantined, make_item_id
from vigil.errors import RecordError
from vigil.hashing.mediatype import UNTYPED, check_media, is_media_type, sniff_mime
from vigil.net.download import file_name
from vigil.sources.base import Record, Source, SourceContext
from vigil.sources.html import links_and_images, main_text
from vigil.sources.records import parse_date
from vigil.sources.warcmedia import PageMediaLinker

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_GZIP = b"\x1f\x8b"


class DecompressionLimit(Exception):
    pass


class BoundedReader(DecompressingBufferedReader):
    """warcio's reader of a (multi-member) gzip stream, refusing to inflate more than ``limit`` bytes.

    It keeps warcio's own handling of gzip members: a record whose Content-Length is wrong ends with its
    member, and the next member is read as the next record (warcio recovers; so does vigil)."""

    def __init__(self, stream: BinaryIO, limit: int, **kwargs: Any) -> None:
        super().__init__(stream, **kwargs)
        self.limit = limit
        self.total = 0

    def _decompress(self, data: bytes) -> bytes:
        out: bytes = super()._decompress(data)
        self.total += len(out)
        if self.total > self.limit:
            raise DecompressionLimit(f"decompressed size exceeds {self.limit} bytes (gzip bomb?)")
        return out


class WarcSource(Source):
    name = "warc"

    def sniff(self, path: Path, head: bytes) -> float:
        if head.startswith(b"WARC/"):
            return 0.95
        if head.startswith(_GZIP):
            try:
                inner = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 16)
            except zlib.error:
                return 0.0
            if inner.startswith(b"WARC/"):
                return 0.95
            return 0.5 if path.name.lower().endswith(".warc.gz") else 0.0
        return 0.0

    def read(self, path: Path, ctx: SourceContext) -> Iterator[Record]:
        source = str(path)
        if path.stat().st_size > ctx.max_file_bytes:
            yield Quarantined(source, "file", f"file larger than {ctx.max_file_bytes} bytes; not read")
            return
        with path.open("rb") as raw:
            iterator = ArchiveIterator(raw)
            iterator.reader = BoundedReader(iterator.fh, ctx.max_decompressed_bytes)
            last = "start of file"
            linker = PageMediaLinker()
            try:
                for record in iterator:
                    offset = iterator.offset  # start of this record (get_record_offset would consume it)
                    rec_id = record.rec_headers.get_header("WARC-Record-ID") or ""
                    last = f"record at byte {offset}" + (f" {rec_id}" if rec_id else "")
                    if record.rec_type != "response":
                        continue
                    yield from self._response(record, source, last, ctx, linker)
            except DecompressionLimit as exc:
                yield Quarantined(source, f"after {last}", f"{exc}; the rest of the file is unread")
            except (ArchiveLoadFailed, EOFError, OSError, zlib.error, ValueError) as exc:
                yield Quarantined(
                    source,
                    f"after {last}",
                    f"truncated or malformed WARC: {exc}; the rest of the file is unread",
                )
            except (AttributeError, TypeError, IndexError, KeyError) as exc:  # warcio on malformed headers
                yield Quarantined(
                    source,
                    f"after {last}",
                    f"truncated or malformed WARC: {exc}; the rest of the file is unread",
                )
            yield from linker.finish()

    def _response(
        self, record: Any, source: str, where: str, ctx: SourceContext, linker: PageMediaLinker
    ) -> list[Record]:
        headers = record.http_headers
        ctype = (headers.get_header("Content-Type") or "").lower() if headers else ""
        if ctype.startswith(_HTML_TYPES):
            page = self._page(record, ctype, source, where, ctx)
            return list(linker.page(page)) if isinstance(page, Item) else [page]
        declared = ctype.split(";", 1)[0].strip()
        if (
            headers is None
            or not is_media_type(declared)
            or not str(headers.get_statuscode()).startswith("2")
        ):
            return []
        found = self._media(record, declared, source, where, ctx)
        if not isinstance(found, tuple):
            return [found] if found is not None else []
        url, media, item = found
        return list(linker.image(url, media, item))

    def _body(self, record: Any, source: str, where: str, limit: int) -> bytes | Quarantined:
        """The decoded HTTP body of a response record, at most ``limit`` bytes, or why not."""
        body = record.raw_stream.read(limit + 1)
        if len(body) > limit:
            return Quarantined(source, where, f"record body longer than {limit} bytes")
        if getattr(record.raw_stream, "limit", 0) > 0 and not record.raw_stream.read(1):
            declared = record.rec_headers.get_header("Content-Length")
            return Quarantined(source, where, f"record truncated: Content-Length {declared}, body ends early")
        try:
            return _decode_body(body, record.http_headers, limit)
        except (ValueError, OSError, zlib.error, EOFError) as exc:
            return Quarantined(source, where, f"undecodable HTTP body: {exc}")

    def _media(
        self, record: Any, declared: str, source: str, where: str, ctx: SourceContext
    ) -> tuple[str, Media, Item] | Quarantined | None:
        content = self._body(record, source, where, ctx.max_media_bytes)
        if isinstance(content, Quarantined):
            return content
        url = record.rec_headers.get_header("WARC-Target-URI") or ""
        if declared in UNTYPED and not (sniff_mime(content[:64]) or "").startswith(("image/", "video/")):
            return None  # an untyped download that is no image or video: not media, nothing to say
        try:
            mime = check_media(content, declared)
        except RecordError as exc:
            return Quarantined(source, where, f"media {url}: {exc.reason}")
        media = ctx.media.put_bytes(content, file_name(url, "media"), mime, url=url or None)
        rec_id = record.rec_headers.get_header("WARC-Record-ID")
        item = Item(
            id=make_item_id(self.name, rec_id, "", url or media.sha256),
            source=self.name,
            text="",
            native_id=rec_id,
            url=url or None,
            published=parse_date(record.rec_headers.get_header("WARC-Date")),
            media=[media],
            origin=Origin(source, where, self.name),
            meta={"status": record.http_headers.get_statuscode(), "content_type": declared, "mime": mime},
        )
        return url, media, item

    def _page(self, record: Any, ctype: str, source: str, where: str, ctx: SourceContext) -> Record:
        headers = record.http_headers
        content = self._body(record, source, where, ctx.max_record_bytes)
        if isinstance(content, Quarantined):
            return content
        html = content.decode(_charset(ctype), "replace")
        url = record.rec_headers.get_header("WARC-Target-URI")
        rec_id = record.rec_headers.get_header("WARC-Record-ID")
        text = main_text(html, url)
        links, images = links_and_images(html, url)
        meta: dict[str, Any] = {"status": headers.get_statuscode(), "content_type": ctype}
        if images:
            meta["images"] = images
        return Item(
            id=make_item_id(self.name, rec_id, text, url),
            source=self.name,
            text=text,
            native_id=rec_id,
            html=html,
            url=url,
            published=parse_date(record.rec_headers.get_header("WARC-Date")),
            links=links,
            origin=Origin(source, where, self.name),
            meta=meta,
        )


def _decode_body(body: bytes, headers: Any, limit: int) -> bytes:
    encoding = (headers.get_header("Content-Encoding") or "").lower() or None
    if encoding not in BufferedReader.get_supported_decompressors():
        encoding = None
    if (headers.get_header("Transfer-Encoding") or "").lower() == "chunked":
        reader: Any = ChunkedDataReader(io.BytesIO(body), decomp_type=encoding)
    elif encoding:
        reader = BufferedReader(io.BytesIO(body), decomp_type=encoding)
    else:
        return body
    out = reader.read(limit + 1)
    while len(out) <= limit:
        more = reader.read(limit + 1 - len(out))
        if not more:
            break
        out += more
    if len(out) > limit:
        raise ValueError(f"decoded body longer than {limit} bytes")
    return out


def _charset(ctype: str) -> str:
    for part in ctype.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key == "charset" and value:
            candidate = value.strip("\"' ")
            try:
                "".encode(candidate)
            except LookupError:
                break
            return candidate
    return "utf-8"
