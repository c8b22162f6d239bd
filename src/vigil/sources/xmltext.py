"""XML documents as the XML parser needs them: any declared encoding (Big5, EUC-KR, GB2312 ... which
expat cannot read itself), a wrong or missing declaration, and HTML named entities (``&nbsp;``) that a feed
uses without declaring them.

``open_utf8(path)`` checks which encoding the bytes are really in (the BOM, then the declaration, then
UTF-8, then Windows-1252, as feedparser does), and returns a stream of the document transcoded to UTF-8
with the declaration rewritten to say so and every HTML named entity turned into a numeric reference.
The whole file is decoded once to check it (linear, streamed); nothing is held beyond one chunk.
"""

from __future__ import annotations

import codecs
import html.entities
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 16
_DECLARATION = re.compile(rb"^\s*<\?xml[^>]{0,400}?\?>", re.DOTALL)
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._:+-]{1,60})["']""")
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]{0,31});")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
#: Names that real feeds declare and Python's codecs do not know (feedparser's test corpus has them all).
ALIASES = {
    "ms-ansi": "cp1252",
    "ms-arab": "cp1256",
    "ms-cyrl": "cp1251",
    "ms-ee": "cp1250",
    "ms-greek": "cp1253",
    "ms-hebr": "cp1255",
    "ms-turk": "cp1254",
    "mac": "mac_roman",
    "csmacintosh": "mac_roman",
    "macintosh": "mac_roman",
    "ucs-2": "utf-16",
    "iso-10646-ucs-2": "utf-16",
    "csunicode": "utf-16",
    "unicode": "utf-16",
    "x-sjis": "shift_jis",
    "x-euc-jp": "euc_jp",
    "gb2312-80": "gb2312",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def codec_name(name: str) -> str | None:
    """The Python codec for an encoding name a document declares, or None when there is none."""
    clean = name.strip().lower()
    clean = ALIASES.get(clean, clean)
    try:
        return codecs.lookup(clean).name
    except LookupError:
        return None


@dataclass(slots=True)
class Encoding:
    codec: str
    declared: str | None
    #: Why the document is not read in the encoding it declares (None when it is).
    note: str | None = None


def _guess_from_head(head: bytes) -> tuple[str | None, str | None]:
    """(codec from a BOM or UTF-16/32 layout, declared name) from the first bytes."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec, None
    if head.startswith(b"<\x00?\x00"):
        return "utf-16-le", None
    if head.startswith(b"\x00<\x00?"):
        return "utf-16-be", None
    found = _DECLARATION.match(head)
    declared = None
    if found and (enc := _ENCODING.search(found.group(0))):
        declared = enc.group(1).decode("ascii")
    return None, declared


def _decodes(path: Path, codec: str) -> bool:
    decoder = codecs.getincrementaldecoder(codec)("strict")
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except (UnicodeDecodeError, ValueError):
        return False
    return True


def detect(path: Path) -> Encoding:
    """The encoding the document's bytes are in: BOM, declaration, UTF-8, Windows-1252, Latin-1."""
    with path.open("rb") as fh:
        head = fh.read(1024)
    by_bom, declared = _guess_from_head(head)
    if by_bom:
        return Encoding(by_bom, declared)
    tried: list[str] = []
    if declared:
        codec = codec_name(declared)
        if codec and _decodes(path, codec):
            return Encoding(codec, declared)
        tried.append(f"declared {declared!r} " + ("does not fit the bytes" if codec else "is unknown"))
    for codec in ("utf-8", "cp1252", "latin-1"):
        if _decodes(path, codec):
            note = "; ".join(tried) or None
            if declared is None and codec != "utf-8":
                note = "not UTF-8 and no encoding declared"
            return Encoding(codec, declared, f"{note}: read as {codec}" if note else None)
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def _numeric(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in _XML_ENTITIES:
        return match.group(0)
    code = html.entities.name2codepoint.get(name)
    if code is None:
        full = html.entities.html5.get(name + ";")
        if full is None:
            return "&amp;" + name + ";"  # an unknown name: kept as text, as a browser shows it
        return "".join(f"&#{ord(c)};" for c in full)
    return f"&#{code};"


class Utf8Stream:
    """A read-only byte stream: the document transcoded to UTF-8, declaration rewritten, HTML entities
    made numeric. ``read(n)`` may return more or fewer than ``n`` bytes (parsers accept that)."""

    def __init__(self, raw: BinaryIO, codec: str) -> None:
        self.raw = raw
        self.decoder = codecs.getincrementaldecoder(codec)("replace")
        self.first = True
        self.carry = ""
        self.done = False

    def read(self, n: int = -1) -> bytes:
        while not self.done:
            chunk = self.raw.read(CHUNK)
            text = self.carry + self.decoder.decode(chunk, final=not chunk)
            self.carry = ""
            if not chunk:
                self.done = True
            else:
                # Hold back a possible entity cut by the chunk boundary.
                amp = text.rfind("&", max(0, len(text) - 40))
                if amp >= 0 and ";" not in text[amp:]:
                    text, self.carry = text[:amp], text[amp:]
            if self.first:
                text = text.lstrip("\ufeff")
                if text.lstrip().startswith("<?xml"):
                    end = text.find("?>")
                    if end < 0:
                        self.carry = text + self.carry
                        if not self.done:
                            continue
                        end = len(text) - 2
                    text = '<?xml version="1.0" encoding="utf-8"?>' + text[end + 2 :]
                self.first = False
            out = _ENTITY.sub(_numeric, text).encode("utf-8")
            if out:
                return out
        return b""


def open_utf8(path: Path, encoding: Encoding) -> Utf8Stream:
    """The document at ``path`` as UTF-8 (close it with ``stream.raw.close()``)."""
    return Utf8Stream(path.open("rb"), encoding.codec)
