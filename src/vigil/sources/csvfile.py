"""CSV with a header row and a ``text`` column; every other column is kept as metadata."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from pathlib import Path

from vigil.core.model import Origin, Quarantined
from vigil.errors import RecordError, SourceError
from vigil.sources.base import Record, Source, SourceContext, detect_bom, excerpt
from vigil.sources.records import record_to_item

csv.field_size_limit(sys.maxsize)


class CsvSource(Source):
    name = "csv"

    def sniff(self, path: Path, head: bytes) -> float:
        enc, skip = detect_bom(head)
        first = head[skip:].decode(enc, "ignore").split("\n", 1)[0]
        if path.suffix.lower() in {".csv", ".tsv"}:
            return 0.6 if "text" in first.lower() else 0.3
        if "\x00" in first or "\r" in first:
            return 0.0
        try:
            dialect = csv.Sniffer().sniff(first)
            cols = next(csv.reader([first], dialect), [])
        except csv.Error:
            return 0.0
        return 0.4 if "text" in [c.strip().lower() for c in cols] else 0.0

    def read(self, path: Path, ctx: SourceContext) -> Iterator[Record]:
        source = str(path)
        with path.open("rb") as raw:
            enc, _ = detect_bom(raw.read(4))
            raw.seek(0)
            encoding = "utf-8-sig" if enc == "utf-8" else enc.replace("-le", "").replace("-be", "")
            stream = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
            try:
                sample = stream.read(64 * 1024)
            except UnicodeDecodeError as exc:
                raise SourceError(f"not valid {encoding}: {exc.reason}", source) from exc
            finally:
                stream.detach()
            try:
                dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
                    sample.split("\n", 1)[0], ",;\t|"
                )
            except csv.Error:
                dialect = csv.excel
            raw.seek(0)
            stream = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
            reader = csv.reader(stream, dialect)
            try:
                header = [h.strip() for h in next(reader)]
            except StopIteration:
                return
            except (UnicodeDecodeError, csv.Error) as exc:
                raise SourceError(f"unreadable header: {exc}", source) from exc
            if "text" not in [h.lower() for h in header]:
                raise SourceError(f"no 'text' column in header {header!r}", source)
            header = [h.lower() if h.lower() == "text" else h for h in header]
            while True:
                location = f"line {reader.line_num + 1}"
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except UnicodeDecodeError as exc:
                    yield Quarantined(source, location, f"not valid {encoding}: {exc.reason}; rest unread")
                    return
                except csv.Error as exc:
                    yield Quarantined(source, location, f"malformed CSV: {exc}")
                    continue
                location = f"line {reader.line_num}"
                if not row or all(not c.strip() for c in row):
                    continue
                if len(row) != len(header):
                    yield Quarantined(
                        source,
                        location,
                        f"{len(row)} fields where the header has {len(header)}",
                        excerpt(",".join(row)),
                    )
                    continue
                if sum(len(c) for c in row) > ctx.max_record_bytes:
                    yield Quarantined(
                        source, location, f"record longer than {ctx.max_record_bytes} characters"
                    )
                    continue
                try:
                    yield record_to_item(
                        dict(zip(header, row, strict=True)), self.name, Origin(source, location, self.name)
                    )
                except RecordError as exc:
                    yield Quarantined(source, location, exc.reason, excerpt(",".join(row)))
