"""Stream JSON Lines records through the text model: the core of ``vigil classify``.

Input: one JSON object per line with a string ``"id"`` (or a number) and a string ``"text"``; other fields
are ignored. Output: one JSON object per input record, in input order:
``{"id", "score", "label", "lang", "reasons", "outlets"}``.

Bad lines (not JSON, not an object, no usable id or text) never abort the run and are never dropped: each
yields an error record in its place, ``{"id": <id or null>, "error": "...", "line": N}``, with no score or
label, so a consumer can neither mistake it for a verdict nor lose count; the same message goes to stderr
with the line number and the command ends with exit status 1. Records are read and written in batches of
``batch_size`` lines, so memory stays bounded whatever the input's length.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from vigil.text.bank import TextBank
from vigil.text.model import TextModel
from vigil.text.outlets import OutletMatcher

MAX_TEXT_CHARS = 200_000


@dataclass(slots=True)
class StreamSummary:
    records: int = 0
    flagged: int = 0
    errors: list[str] = field(default_factory=list)


def _parse(line: str, number: int) -> tuple[Any, str | None, str | None]:
    """``(id, text, error)`` for one input line."""
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, None, f"not valid JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(rec, dict):
        return None, None, "not a JSON object"
    rid = rec.get("id")
    if rid is None or isinstance(rid, (dict, list, bool)):
        return None, None, 'missing "id" (a string or a number)'
    text = rec.get("text")
    if not isinstance(text, str):
        return rid, None, 'missing "text" (a string)'
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS]
    return rid, text, None


def _batches(lines: Iterable[str], size: int) -> Iterator[list[tuple[int, str]]]:
    batch: list[tuple[int, str]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        batch.append((number, line))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def classify_stream(
    lines: Iterable[str],
    out: TextIO,
    model: TextModel,
    outlets: OutletMatcher | None,
    threshold: float | None = None,
    batch_size: int = 2000,
    on_error: Any = None,
    bank: TextBank | None = None,
) -> StreamSummary:
    summary = StreamSummary()
    for batch in _batches(lines, batch_size):
        parsed = [(number, *_parse(line, number)) for number, line in batch]
        good = [text for _, _, text, error in parsed if error is None and text is not None]
        verdicts = iter(model.classify(good, threshold, bank) if good else [])
        chunk: list[str] = []
        for number, rid, _text, error in parsed:
            summary.records += 1
            if error is not None:
                message = f"line {number}: {error}"
                summary.errors.append(message)
                if on_error:
                    on_error(message)
                chunk.append(json.dumps({"id": rid, "error": error, "line": number}, ensure_ascii=False))
                continue
            v = next(verdicts)
            summary.flagged += v.label
            found = outlets.match(v.norm) if outlets is not None and v.norm is not None else []
            chunk.append(
                json.dumps(
                    {
                        "id": rid,
                        "score": v.score,
                        "label": v.label,
                        "lang": v.lang,
                        "reasons": v.reasons,
                        "outlets": found,
                    },
                    ensure_ascii=False,
                )
            )
        out.write("\n".join(chunk) + "\n")
        out.flush()
    return summary
