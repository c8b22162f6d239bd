"""Loose media files (images, video, audio, PDF) found while scanning, recognised by their magic bytes.

Each file becomes one Item with no text and the file attached as Media, so that hash matching can run on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vigil.core.model import Item, Origin, Quarantined, make_item_id
from vigil.sources.base import Record, Source, SourceContext

# (offset, magic, mime): checked in order, first match wins.
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"\x1aE\xdf\xa3", "video/webm"),
    (0, b"OggS", "audio/ogg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"\xff\xfb", "audio/mpeg"),
    (0, b"\xff\xf3", "audio/mpeg"),
)
_RIFF = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}
_FTYP = {b"qt  ": "video/quicktime", b"M4A ": "audio/mp4", b"heic": "image/heic", b"avif": "image/avif"}


def sniff_mime(head: bytes) -> str | None:
    """The MIME type that a file's first bytes announce, or None when they announce no media type."""
    for offset, magic, mime in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return mime
    if head[:4] == b"RIFF" and head[8:12] in _RIFF:
        return _RIFF[head[8:12]]
    if head[4:8] == b"ftyp":
        return _FTYP.get(head[8:12], "video/mp4")
    return None


class MediaFileSource(Source):
    name = "media"

    def sniff(self, path: Path, head: bytes) -> float:
        return 0.7 if sniff_mime(head) else 0.0

    def read(self, path: Path, ctx: SourceContext) -> Iterator[Record]:
        source = str(path)
        with path.open("rb") as fh:
            mime = sniff_mime(fh.read(64))
        if mime is None:
            yield Quarantined(source, "file", "not a recognised image, video, audio or PDF file")
            return
        try:
            media = ctx.media.put_file(path, mime, ctx.max_file_bytes)
        except ValueError as exc:
            yield Quarantined(source, "file", str(exc))
            return
        yield Item(
            id=make_item_id(self.name, media.sha256),
            source=self.name,
            text="",
            native_id=media.sha256,
            media=[media],
            origin=Origin(source, "file", self.name),
            meta={"file_name": path.name, "mime": mime, "size": media.size},
        )
