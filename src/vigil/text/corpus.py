"""Labelled text corpora (the shared data's JSON Lines) read into rows for training and evaluation."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from vigil.errors import RecordError, UsageError


@dataclass(slots=True)
class Row:
    id: str
    text: str
    label: int
    source: str
    account: str | None = None
    lang: str | None = None
    kind: str | None = None  # a grouping of negatives for operating points (religious, poetry, ...)


def default_data_dir() -> Path:
    """``$VIGIL_DATA/text`` if set, else ``../shared/data/text`` relative to the working directory."""
    env = os.environ.get("VIGIL_DATA")
    return Path(env) / "text" if env else Path("../shared/data/text")


def read_labelled(path: Path) -> list[Row]:
    """Rows of one labelled JSONL file; a bad line raises :class:`RecordError` with its line number."""
    rows: list[Row] = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RecordError(f"not JSON ({exc.msg})", where) from exc
            if not isinstance(rec, dict) or not isinstance(rec.get("text"), str):
                raise RecordError('needs an object with a string "text"', where)
            label = rec.get("label")
            if label not in (0, 1, True, False):
                raise RecordError('needs "label" 0 or 1', where)
            rows.append(
                Row(
                    id=str(rec.get("id", f"{path.stem}-{number}")),
                    text=rec["text"],
                    label=int(label),
                    source=str(rec.get("source") or path.stem),
                    account=str(rec["account"]) if rec.get("account") else None,
                    lang=rec.get("lang"),
                    kind=str(rec["kind"]) if rec.get("kind") else None,
                )
            )
    return rows


def read_corpus(data_dir: Path) -> list[Row]:
    files = sorted(data_dir.glob("*.jsonl"))
    if not files:
        raise UsageError(f"no *.jsonl training files in {data_dir} (set --data or $VIGIL_DATA)")
    rows: list[Row] = []
    for f in files:
        rows.extend(read_labelled(f))
    return rows
