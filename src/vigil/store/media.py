"""Content-addressed media on disk: ``media/ab/cd/<sha256>``. Writing the same bytes twice is a no-op."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from vigil.core.model import Media

_KINDS = {"image": "image", "video": "video", "audio": "audio"}
_DOCUMENT_MIMES = {
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/epub+zip",
    "text/plain",
}


def media_kind(mime: str) -> str:
    major = mime.split("/", 1)[0]
    if major in _KINDS:
        return _KINDS[major]
    return "document" if mime in _DOCUMENT_MIMES else "other"


class MediaSink:
    """Stores media bytes by SHA-256 under a folder; safe to share between sources in one process."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put_bytes(self, data: bytes, name: str | None, mime: str, url: str | None = None) -> Media:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        if not target.exists():
            self._write_atomic(target, lambda fh: fh.write(data))
        return Media(digest, mime, len(data), name=name, url=url, kind=media_kind(mime))

    def put_stream(self, stream: BinaryIO, name: str | None, mime: str, max_bytes: int) -> Media:
        """Copy a stream in chunks, hashing as it goes; refuses more than ``max_bytes``."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(1 << 20):
                    size += len(chunk)
                    if size > max_bytes:
                        raise ValueError(f"media larger than {max_bytes} bytes")
                    digest.update(chunk)
                    out.write(chunk)
            hexdigest = digest.hexdigest()
            target = self.path_for(hexdigest)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return Media(hexdigest, mime, size, name=name, kind=media_kind(mime))

    def put_file(self, path: Path, mime: str, max_bytes: int) -> Media:
        with path.open("rb") as fh:
            return self.put_stream(fh, path.name, mime, max_bytes)

    def open(self, sha256: str) -> BinaryIO:
        return self.path_for(sha256).open("rb")

    def _write_atomic(self, target: Path, write: object) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                write(out)  # type: ignore[operator]
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
