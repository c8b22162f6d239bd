"""Stream the objects at given paths out of one large JSON document (ijson), bounded per object."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any, BinaryIO

import ijson

#: Yielded in place of an object too large to build.
TOO_LARGE: Any = object()
_SCALARS = frozenset({"string", "number", "boolean", "null"})

#: What a broken or truncated JSON document raises while streaming.
JSON_ERRORS = (ijson.JSONError, UnicodeDecodeError, ValueError)


class CountingReader:
    """A read-only byte stream that counts how far it has been read (for error locations)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.offset = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.offset += len(data)
        return data


def iter_objects(stream: Any, prefixes: frozenset[str], max_chars: int) -> Iterator[tuple[str, Any]]:
    """Yield ``(prefix, object)`` for each JSON object found at one of ``prefixes`` (ijson paths such as
    ``data.item``); a scalar found there is yielded as it is, so that the caller can report it. An object
    whose strings add up to more than ``max_chars`` is yielded as ``(prefix, TOO_LARGE)`` without being
    built. Raises one of JSON_ERRORS on a broken document."""
    builder: ijson.ObjectBuilder | None = None
    depth = size = 0
    current = ""
    # Not ``use_float``: the C backend then overflows on integers past 64 bits; convert decimals here.
    for prefix, event, value in ijson.parse(stream):
        if type(value) is Decimal:
            value = float(value)
        if depth == 0:
            if event == "start_map" and prefix in prefixes:
                current, depth, size = prefix, 1, 0
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
            elif event in _SCALARS and prefix in prefixes:
                yield prefix, value
            continue
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
        elif isinstance(value, str):
            size += len(value)
        if builder is not None:
            if size > max_chars:
                builder = None
            else:
                builder.event(event, value)
        if depth == 0:
            yield current, builder.value if builder is not None else TOO_LARGE
            builder = None
