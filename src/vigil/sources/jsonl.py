"""JSON Lines: one object per line with a ``text`` field; every other field is kept as metadata."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from vigil.core.model import Origin, Quarantined
from vigil.errors import RecordError
from vigil.sources.base import Record, Source, SourceContext, detect_bom, excerpt, iter_json_lines
from vigil.sources.records import record_to_item


class JsonLinesSource(Source):
    name = "jsonl"

    def sniff(self, path: Path, head: bytes) -> float:
        enc, skip = detect_bom(head)
        try:
            text = head[skip:].decode(enc, "ignore").lstrip()
        except LookupError:
            return 0.0
        if path.suffix.lower() in {".jsonl", ".ndjson"}:
            return 0.6
        first = text.split("\n", 1)[0]
        if first.startswith("{") and (first.rstrip().endswith("}") or "\n" in text):
            # One object per line: the first line closes its object (pretty-printed JSON does not).
            try:
                json.loads(first)
                return 0.5
            except ValueError:
                return 0.1
        return 0.0

    def read(self, path: Path, ctx: SourceContext) -> Iterator[Record]:
        source = str(path)
        for line in iter_json_lines(path, source, ctx.max_record_bytes):
            if isinstance(line, Quarantined):
                yield line
                continue
            try:
                yield record_to_item(line.value, self.name, Origin(source, line.location, self.name))
            except RecordError as exc:
                yield Quarantined(source, line.location, exc.reason, excerpt(line.text))
