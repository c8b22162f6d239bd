"""``vigil scan`` through the real command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from vigil.store import Store

VIGIL = [sys.executable, "-m", "vigil"]


def run(args: list[str], home: Path, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIGIL_HOME": str(home)}
    env.pop("VIGIL_DATABASE_URL", None)
    if database_url and not database_url.startswith("sqlite"):
        env["VIGIL_DATABASE_URL"] = database_url
    return subprocess.run([*VIGIL, *args], env=env, capture_output=True, text=True, timeout=300)


def _corpus(folder: Path) -> None:
    folder.mkdir()
    (folder / "a.jsonl").write_text(
        '{"id": "1", "text": "nothing here"}\n{"id": "2", "text": "has a flagged-term inside"}\n{broken\n',
        "utf-8",
    )
    (folder / "b.csv").write_text("text,who\nanother flagged-term,x\nplain,y\n", "utf-8")
    (folder / "notes.bin").write_bytes(b"\x00\x01\x02")


def test_scan_counts_and_second_scan_adds_nothing(
    tmp_path: Path, home: Path, store: Store, database_url: str
) -> None:
    (home / "watchlist.txt").write_text("flagged-term\n", "utf-8")
    corpus = tmp_path / "corpus"
    _corpus(corpus)
    first = run(["scan", "--json", str(corpus)], home, database_url)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert {k: summary[k] for k in ("items", "new_items", "quarantined", "detections", "cases")} == {
        "items": 4,
        "new_items": 4,
        "quarantined": 1,
        "detections": 2,
        "cases": 2,
    }
    reasons = {(Path(e["source"]).name, e["location"], e["reason"].split(":")[0]) for e in summary["errors"]}
    assert reasons == {("a.jsonl", "line 3", "invalid JSON"), ("notes.bin", "", "unrecognised format")}
    second = json.loads(run(["scan", "--json", str(corpus)], home, database_url).stdout)
    assert second["new_items"] == 0 and second["items"] == 4 and second["cases"] == 0
    assert store.count("items") == 4 and store.count("cases") == 2


def test_usage_errors_exit_2(home: Path) -> None:
    assert run(["scan", "--json", "x", "--format", "nope"], home).returncode == 2
    assert run(["scan", "--bogus"], home).returncode == 2


def test_missing_path_fails_with_1(home: Path, tmp_path: Path) -> None:
    result = run(["scan", str(tmp_path / "absent")], home)
    assert result.returncode == 1 and "no such file" in result.stderr


def test_demo_runs(home: Path) -> None:
    result = run(["demo"], home)
    assert result.returncode == 0, result.stderr
    assert "cases opened" in result.stderr
