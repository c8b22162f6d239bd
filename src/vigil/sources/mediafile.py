"""Loose media files (images, video, audio, PDF) found while scanning, recognised by their magic bytes.

Each file becomes one Item with no text and the file attached as Media, so that hash matching can run on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vigil.core.model import Item, Origin, Quarantined, make_item_id
from vigil.hashing.mediatype import sniff_mime
from vigil.sources.base import Record, Source, SourceContext


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
