"""Hash-list formats, read and written.

- ``lines``: one hash a line (``#`` comments and blank lines skipped); the signal type is given.
- ``te-csv``: ThreatExchange / HMA CSV. Two shapes are read, by their header: the ``threatexchange
  dataset --csv`` export (``signal_type,signal_str,collab,category,tags``) and the ThreatExchange API
  query export (``id,indicator,type,...``). Every other column is kept in the entry's metadata.
- ``tat-json``: a Tech Against Terrorism style hash list: ``{"hashes": [{"hash", "hash_type", ...}]}``
  or a bare list of such objects. Every key is kept in the entry's metadata. (The structure follows
  the lists TAT publishes to platforms; a sample is in tests/data/banks/tat_hashlist.json.)

A bad record never stops a file: it comes back as a ``Rejected`` with its line (or record number) and
reason, and the good ones go on.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vigil.banks.model import MAX_SOURCE_ID, Entry, NewEntry, normalise_type, normalise_value
from vigil.errors import UsageError

FORMATS = ("lines", "te-csv", "tat-json")
MAX_LINE = 1_000_000


@dataclass(slots=True)
class Rejected:
    location: str
    reason: str
    excerpt: str = ""


def sniff_format(name: str, head: str) -> str:
    stripped = head.lstrip()
    if name.endswith(".json") or stripped.startswith(("{", "[")):
        return "tat-json"
    first = stripped.splitlines()[0].lower() if stripped else ""
    if name.endswith(".csv") or ("," in first and ("signal" in first or "indicator" in first)):
        return "te-csv"
    return "lines"


def _parse_time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
            return datetime.fromtimestamp(float(value), UTC)
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _has_nul(obj: Any) -> bool:
    if isinstance(obj, str):
        return "\x00" in obj
    if isinstance(obj, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in obj.items())
    if isinstance(obj, list):
        return any(_has_nul(v) for v in obj)
    return False


def _checked(where: str, entry: NewEntry) -> NewEntry | Rejected:
    """The entry, or why the store cannot keep it as it is (PostgreSQL refuses NUL characters in text
    and JSON, and an id longer than its column): one such record must not fail the whole import."""
    if entry.source_id is not None and len(entry.source_id) > MAX_SOURCE_ID:
        return Rejected(where, f"id longer than {MAX_SOURCE_ID} characters", entry.source_id[:200])
    if _has_nul(entry.meta) or _has_nul(entry.source_id):
        return Rejected(where, "NUL character in the record")
    return entry


def read(
    text: str, fmt: str, signal_type: str = "pdq", source: str | None = None
) -> Iterator[NewEntry | Rejected]:
    if fmt == "lines":
        yield from read_lines(text, signal_type, source)
    elif fmt == "te-csv":
        yield from read_te_csv(text, source)
    elif fmt == "tat-json":
        yield from read_tat_json(text, source)
    else:
        raise UsageError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


def read_lines(text: str, signal_type: str, source: str | None = None) -> Iterator[NewEntry | Rejected]:
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            value = normalise_value(signal_type, line)
        except ValueError as exc:
            yield Rejected(f"line {number}", str(exc), raw[:200])
            continue
        yield NewEntry(signal_type, value, {}, source, None)


_TE_SIGNAL = ("signal_str", "indicator", "signal", "hash")
_TE_TYPE = ("signal_type", "type", "hash_type")
_TE_ID = ("id", "signal_id", "indicator_id")


def read_te_csv(text: str, source: str | None = None) -> Iterator[NewEntry | Rejected]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        fields = [f.strip().lower() for f in reader.fieldnames or []]
    except csv.Error as exc:
        yield Rejected("line 1", f"bad CSV header: {exc}")
        return
    value_col = next((f for f in _TE_SIGNAL if f in fields), None)
    type_col = next((f for f in _TE_TYPE if f in fields), None)
    if value_col is None:
        yield Rejected("line 1", f"no signal column in the header (want one of {', '.join(_TE_SIGNAL)})")
        return
    reader.fieldnames = fields
    failed_at = -1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a field over the csv module's size limit: that row only
            line = reader.reader.line_num  # DictReader's own line_num is not updated on an error
            if line == failed_at:  # no progress: the reader cannot go on
                return
            failed_at = line
            yield Rejected(f"line {line}", f"bad CSV: {exc}")
            continue
        where = f"line {reader.line_num}"
        if None in row:
            yield Rejected(where, "more fields than the header", str(row[None])[:200])
            continue
        rec = {k: (v if v is not None else "") for k, v in row.items()}
        stype = normalise_type(rec.get(type_col, "") or "pdq") if type_col else "pdq"
        if stype is None:
            yield Rejected(where, f"unknown signal type {rec.get(type_col or '', '')!r}")
            continue
        try:
            value = normalise_value(stype, rec.get(value_col, ""))
        except ValueError as exc:
            yield Rejected(where, str(exc), str(rec.get(value_col, ""))[:200])
            continue
        meta = {k: v for k, v in rec.items() if k not in (value_col, type_col) and v != ""}
        if isinstance(meta.get("meta"), str):  # our own export carries the full metadata as JSON
            try:
                extra = json.loads(meta.pop("meta"))
            except json.JSONDecodeError:
                extra = None
            if isinstance(extra, dict):
                meta = {**extra, **{k: v for k, v in meta.items() if k not in extra}}
        if "tags" in meta and "labels" not in meta:
            meta["labels"] = [t for t in str(meta["tags"]).split() if t]
        sid = next((str(rec[c]) for c in _TE_ID if rec.get(c)), None)
        first = _parse_time(rec.get("added_on") or rec.get("first_seen"))
        yield _checked(where, NewEntry(stype, value, meta, source or "threatexchange", sid, first))


def read_tat_json(text: str, source: str | None = None) -> Iterator[NewEntry | Rejected]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Rejected(f"line {exc.lineno}", f"not JSON: {exc.msg}")
        return
    records = doc.get("hashes", doc.get("data")) if isinstance(doc, dict) else doc
    if not isinstance(records, list):
        yield Rejected("document", "no list of hashes (want a list, or an object with 'hashes')")
        return
    for number, rec in enumerate(records, 1):
        where = f"record {number}"
        if not isinstance(rec, dict):
            yield Rejected(where, "not an object", str(rec)[:200])
            continue
        raw_value = rec.get("hash", rec.get("hash_value", rec.get("value")))
        raw_type = rec.get("hash_type", rec.get("algorithm", rec.get("type", "pdq")))
        stype = normalise_type(str(raw_type))
        if stype is None:
            yield Rejected(where, f"unknown hash type {raw_type!r}")
            continue
        if not isinstance(raw_value, str):
            yield Rejected(where, "no hash string", str(rec)[:200])
            continue
        try:
            value = normalise_value(stype, raw_value)
        except ValueError as exc:
            yield Rejected(where, str(exc), raw_value[:200])
            continue
        meta = {k: v for k, v in rec.items() if k not in ("hash", "hash_value", "value")}
        if "entity" in meta and "outlet" not in meta:
            meta["outlet"] = meta["entity"]
        sid = rec.get("id", rec.get("hash_id"))
        first = _parse_time(rec.get("first_seen", rec.get("date_added", rec.get("created_at"))))
        yield _checked(
            where,
            NewEntry(
                stype,
                value,
                meta,
                source or "tech-against-terrorism",
                None if sid is None else str(sid),
                first,
            ),
        )


def write(entries: Iterable[Entry], fmt: str, out: io.TextIOBase | Any) -> int:
    count = 0
    if fmt == "lines":
        for e in entries:
            out.write(e.value + "\n")
            count += 1
    elif fmt == "te-csv":
        keys = ["signal_type", "signal_str", "id", "source", "first_seen", "tags", "meta"]
        writer = csv.DictWriter(out, keys, lineterminator="\n")
        writer.writeheader()
        for e in entries:
            labels = e.meta.get("labels") or []
            writer.writerow(
                {
                    "signal_type": e.signal_type,
                    "signal_str": e.value,
                    "id": e.source_id or "",
                    "source": e.source or "",
                    "first_seen": e.first_seen.isoformat() if e.first_seen else "",
                    "tags": " ".join(str(t) for t in labels) if isinstance(labels, list) else str(labels),
                    "meta": json.dumps(e.meta, ensure_ascii=False, sort_keys=True, default=str),
                }
            )
            count += 1
    elif fmt == "tat-json":
        records = []
        for e in entries:
            rec = dict(e.meta)
            rec.update({"hash": e.value, "hash_type": e.signal_type, "vigil_entry_id": e.id})
            rec.setdefault("id", e.source_id)
            rec.setdefault("first_seen", e.first_seen.isoformat() if e.first_seen else None)
            records.append(rec)
        json.dump({"hashes": records}, out, ensure_ascii=False, indent=1, default=str)
        out.write("\n")
        count = len(records)
    else:
        raise UsageError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    return count
