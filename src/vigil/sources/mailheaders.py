"""Mail header values as text, in time and memory linear in their length.

The e-mail package's structured header parser (``policy.default``) is quadratic on long headers: a
210 KB header of encoded words cost +344 MiB, 420 KB 1.4 GB (docs/sources.md). vigil therefore parses
messages with ``compat32`` (headers kept as they came) and decodes the few headers it uses here: RFC 2047
encoded words, and raw 8-bit bytes (UTF-8, else the message's charset, else Windows-1252) instead of
U+FFFD. Values only shown as metadata are clipped before they are decoded.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re

_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,75})\?([QqBb])\?([^?\s]*)\?=")
_QP_BYTE = re.compile(rb"=([0-9A-Fa-f]{2})")
_SPACE = re.compile(r"\s+")


def raw_bytes(value: str) -> bytes:
    """The bytes a header value came as (the parser keeps 8-bit bytes as surrogate escapes)."""
    return value.encode("utf-8", "surrogateescape")


def eight_bit(value: str, charset: str | None) -> str:
    """A value that held raw 8-bit bytes, decoded: UTF-8, else ``charset``, else Windows-1252."""
    if not any("\udc80" <= c <= "\udcff" for c in value):
        return value
    data = raw_bytes(value)
    for candidate in ("utf-8", charset, "cp1252"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")


def _codec(charset: str) -> str:
    name = charset.split("*", 1)[0].strip().lower()  # RFC 2231 language suffix: utf-8*en
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "utf-8"


def _decode_word(charset: str, kind: str, payload: str) -> str:
    data = payload.encode("ascii", "replace")
    if kind in "Bb":
        try:
            raw = base64.b64decode(data + b"=" * (-len(data) % 4))
        except (binascii.Error, ValueError):
            return payload
    else:
        raw = _QP_BYTE.sub(lambda m: bytes([int(m.group(1), 16)]), data.replace(b"_", b" "))
    return raw.decode(_codec(charset), "replace")


def decode_header(value: str, charset: str | None = None, limit: int | None = None) -> str:
    """A header value as text: unfolded, RFC 2047 encoded words decoded (whitespace between two of them
    dropped), 8-bit bytes decoded. ``limit`` clips the raw value first (for values kept as metadata)."""
    if limit is not None and len(value) > limit:
        value = value[:limit]
    value = eight_bit(value, charset)
    value = value.replace("\r\n", "\n").replace("\n ", " ").replace("\n\t", " ").replace("\n", " ")
    out: list[str] = []
    pos = 0
    previous_word = False
    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        if not (previous_word and not gap.strip()):
            out.append(gap)
        out.append(_decode_word(*match.groups()))
        pos = match.end()
        previous_word = True
    out.append(value[pos:])
    return _SPACE.sub(" ", "".join(out)).strip()
