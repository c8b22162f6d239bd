"""What every source shares: the plug-in interface, the context it reads with, and safe line reading."""

from __future__ import annotations

import codecs
import io
import json
import mimetypes
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from vigil.core.model import Item, Quarantined
from vigil.store.media import MediaSink

Record = Item | Quarantined


@dataclass(slots=True)
class SourceContext:
    """Everything a source may use: limits, and a sink for media bytes (content-addressed, not the DB)."""

    media: MediaSink
    max_record_bytes: int = 8 * 1024**2
    max_file_bytes: int = 2 * 1024**3
    max_decompressed_bytes: int = 512 * 1024**2
    #: Largest image or video kept from inside a container (a WARC's responses).
    max_media_bytes: int = 50 * 1024**2


class Source(ABC):
    """One input format. ``sniff`` says how sure it is that it can read a path; ``read`` yields records."""

    name: str = ""
    #: Whether this source reads a whole folder (e.g. a Telegram export) rather than a file.
    reads_folders: bool = False
    #: Whether a folder source also reads a single file of its format (a Telegram export's JSON alone).
    reads_files: bool = False

    @abstractmethod
    def sniff(self, path: Path, head: bytes) -> float:
        """0 when it cannot read ``path``; up to 1 when sure. ``head`` is the first bytes of a file."""

    @abstractmethod
    def read(self, path: Path, ctx: SourceContext) -> Iterator[Record]:
        """Yield Items and Quarantined records. Raise SourceError only when nothing can be read."""

    def claimed_files(self, path: Path) -> set[Path]:
        """Files inside a folder source that belong to it (its media), so the walker skips them."""
        return set()


def guess_mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def detect_bom(head: bytes) -> tuple[str, int]:
    """The encoding a byte-order mark announces and the mark's length; UTF-8 and 0 when none."""
    for bom, enc in _BOMS:
        if head.startswith(bom):
            return enc, len(bom)
    return "utf-8", 0


@dataclass(slots=True)
class Line:
    number: int
    text: str | None
    error: str | None = None
    raw: bytes = b""


def iter_lines(stream: BinaryIO, max_bytes: int) -> Iterator[Line]:
    """Yield decoded lines, never holding more than ``max_bytes`` of one line in memory.

    A line that is too long, or not valid in the file's encoding, is yielded with ``error`` set and
    ``text`` None, so that the caller can quarantine it and go on.
    """
    head = stream.read(4)
    encoding, skip = detect_bom(head)
    if encoding != "utf-8":
        # UTF-16 files: decode as a text stream (line lengths counted in characters).
        stream.seek(skip)
        text_stream = io.TextIOWrapper(stream, encoding=encoding, errors="strict", newline=None)
        try:
            yield from _iter_text_lines(text_stream, encoding, max_bytes)
        finally:
            text_stream.detach()
        return
    stream.seek(skip)
    number = 0
    while True:
        raw = stream.readline(max_bytes + 1)
        if not raw:
            return
        number += 1
        if len(raw) > max_bytes and not raw.endswith(b"\n"):
            while True:
                more = stream.readline(1 << 20)
                if not more or more.endswith(b"\n"):
                    break
            yield Line(number, None, f"line longer than {max_bytes} bytes", raw[:200])
            continue
        try:
            yield Line(number, raw.decode("utf-8").rstrip("\r\n"), raw=raw)
        except UnicodeDecodeError as exc:
            yield Line(number, None, f"not valid UTF-8 at byte {exc.start}: {exc.reason}", raw[:200])


@dataclass(slots=True)
class JsonLine:
    """One parsed line of a JSON Lines file: where it was, its text and the decoded value."""

    location: str
    text: str
    value: Any


def iter_json_lines(path: Path, source: str, max_bytes: int) -> Iterator[JsonLine | Quarantined]:
    """Parse a JSON Lines file line by line. Blank lines are skipped; a line that is unreadable, too long
    or not JSON comes out as a Quarantined record with its line number and the reason."""
    with path.open("rb") as fh:
        for line in iter_lines(fh, max_bytes):
            location = f"line {line.number}"
            if line.text is None:
                yield Quarantined(source, location, line.error or "unreadable", excerpt(line.raw))
                continue
            if not line.text.strip():
                continue
            try:
                value = json.loads(line.text)
            except ValueError as exc:
                yield Quarantined(source, location, f"invalid JSON: {exc}", excerpt(line.text))
                continue
            yield JsonLine(location, line.text, value)


def _iter_text_lines(text_stream: io.TextIOWrapper, encoding: str, max_chars: int) -> Iterator[Line]:
    number = 0
    try:
        while True:
            line = text_stream.readline(max_chars + 1)
            if not line:
                return
            number += 1
            if len(line) > max_chars and not line.endswith("\n"):
                _drain_text(text_stream)
                yield Line(number, None, f"line longer than {max_chars} characters")
                continue
            yield Line(number, line.rstrip("\r\n"))
    except UnicodeDecodeError as exc:
        yield Line(number + 1, None, f"not valid {encoding}: {exc.reason}; the rest of the file is unread")


def _drain_text(stream: io.TextIOWrapper) -> None:
    while True:
        more = stream.readline(1 << 20)
        if not more or more.endswith("\n"):
            return


def excerpt(raw: bytes | str, limit: int = 200) -> str:
    if isinstance(raw, bytes):
        raw = raw[:limit].decode("utf-8", "replace")
    return raw[:limit]
