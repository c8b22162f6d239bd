"""``vigil scan --executor ray`` on a local Ray gives the same items, signals and cases as in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from vigil.boot import open_store
from vigil.config import Config
from vigil.store.schema import cases, items, signals

pytest.importorskip("ray")


def scan(home: Path, corpus: Path, executor: str) -> dict[str, Any]:
    env = {**os.environ, "VIGIL_HOME": str(home)}
    env.pop("VIGIL_DATABASE_URL", None)
    env.pop("RAY_ADDRESS", None)
    done = subprocess.run(
        [sys.executable, "-m", "vigil", "scan", "--json", "--executor", executor, str(corpus)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def contents(home: Path) -> tuple[list[Any], list[Any], list[Any]]:
    store = open_store(Config.load(home))
    with store.read() as conn:
        found = (
            [tuple(r) for r in conn.execute(select(items.c.id, items.c.text).order_by(items.c.id))],
            [
                (r.item_id, r.detector, r.score, json.dumps(r.reasons), r.threshold)
                for r in conn.execute(select(signals).order_by(signals.c.item_id, signals.c.detector))
            ],
            [(r.item_id, r.score, r.title) for r in conn.execute(select(cases).order_by(cases.c.item_id))],
        )
    store.close()
    return found


@pytest.mark.slow
def test_ray_gives_the_same_results_as_in_process(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    lines = [
        json.dumps({"id": str(i), "text": f"neutral post {i}" + (" flagged-term" if i % 7 == 0 else "")})
        for i in range(1200)
    ]
    (corpus / "a.jsonl").write_text("\n".join(lines[:700]) + "\n{broken\n", "utf-8")
    (corpus / "b.jsonl").write_text("\n".join(lines[700:]) + "\n", "utf-8")
    summaries = {}
    for executor in ("local", "ray"):
        home = tmp_path / executor
        home.mkdir()
        (home / "watchlist.txt").write_text("flagged-term\n", "utf-8")
        summaries[executor] = scan(home, corpus, executor)
    assert summaries["ray"] == summaries["local"]
    assert summaries["local"]["cases"] == len([i for i in range(1200) if i % 7 == 0])
    local, ray = contents(tmp_path / "local"), contents(tmp_path / "ray")
    hits = [s for s in local[1] if s[2] >= s[4]]
    assert len(local[0]) == 1200 and len(hits) == summaries["local"]["detections"]
    assert ray == local
