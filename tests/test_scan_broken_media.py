"""One bad file never stops a scan: Pillow's own broken test images (APNGs with frame-sequence errors,
bad BMPs) scanned with a hash bank in place, through the real command line, on SQLite and PostgreSQL;
and an item whose processing fails is quarantined while the rest of its batch is detected."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from tests.conftest import SHARED_DATA
from tests.peers.fetch import fetch
from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import Item, Signal
from vigil.ingest.scan import Scanner
from vigil.store import Store
from vigil.store.schema import items as items_table

VIGIL = [sys.executable, "-m", "vigil"]
DIH = SHARED_DATA / "media" / "pdq" / "data" / "reg-test-input" / "dih"
#: Broken images from Pillow's test suite that its decoders raise on (SyntaxError, OSError, ...).
BROKEN = [
    "apng/chunk_no_fctl.png",  # Pillow raises SyntaxError: "APNG contains frame sequence errors"
    "apng/sequence_gap.png",
    "apng/sequence_reorder.png",
    "apng/sequence_repeat.png",
    "apng/sequence_start.png",
    "apng/syntax_num_frames_invalid.png",
    "bmp/b/badrle.bmp",
    "bmp/b/shortfile.bmp",
]


def run(args: list[str], home: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIGIL_HOME": str(home)}
    env.pop("VIGIL_DATABASE_URL", None)
    if not database_url.startswith("sqlite"):
        env["VIGIL_DATABASE_URL"] = database_url
    return subprocess.run([*VIGIL, *args], env=env, capture_output=True, text=True, timeout=300)


def test_broken_images_do_not_stop_the_scan(
    tmp_path: Path, home: Path, store: Store, database_url: str
) -> None:
    images = fetch("pillow") / "Tests" / "images"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for rel in BROKEN:
        shutil.copy(images / rel, corpus / rel.replace("/", "_"))
    shutil.copy(DIH / "bridge-1-original.jpg", corpus / "zz-bridge.jpg")  # last: after every broken one
    (corpus / "posts.jsonl").write_text('{"id": "1", "text": "placeholder post"}\n', "utf-8")
    assert run(["bank", "create", "b"], home, database_url).returncode == 0
    assert run(["bank", "add", "b", str(DIH / "bridge-1-original.jpg")], home, database_url).returncode == 0

    done = run(["scan", "--json", str(corpus)], home, database_url)
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["items"] == len(BROKEN) + 2 and summary["cases"] == 1  # the bridge matched its bank
    with store.read() as conn:
        stored = conn.execute(select(items_table.c.id, items_table.c.detected_at)).all()
    assert len(stored) == len(BROKEN) + 2 and all(detected for _, detected in stored)
    again = json.loads(run(["scan", "--json", str(corpus)], home, database_url).stdout)
    assert again["new_items"] == 0 and again["cases"] == 0


class _FailsOnOne:
    """A detector plug-in that fails on one item, as a native decoder might."""

    name = "fails-on-one"
    version = "1"

    def detect(self, items: list[Item]) -> list[Signal]:
        if any("poison" in i.text for i in items):
            raise RuntimeError("decoder failed")
        return []


def test_an_item_that_fails_is_quarantined_and_its_batch_detected(tmp_path: Path, config: Config) -> None:
    store = open_store(config)
    try:
        path = tmp_path / "posts.jsonl"
        lines = [
            json.dumps({"id": str(n), "text": "poison" if n == 3 else f"placeholder {n}"}) for n in range(6)
        ]
        path.write_text("\n".join(lines) + "\n", "utf-8")
        summary = Scanner(config, store, [_FailsOnOne()]).scan(str(path))
        assert summary.items == 5 and summary.quarantined == 1
        assert summary.errors == [
            {
                "source": str(path),
                "location": "line 4",
                "reason": "processing failed: RuntimeError: decoder failed",
            }
        ]
        assert [q.location for q in store.list_quarantined()] == ["line 4"]
        assert len(store.undetected([r.id for r in _items(path)])) == 1  # the failed one, retried next scan
    finally:
        store.close()


def _items(path: Path) -> list[Item]:
    from vigil.sources.base import SourceContext
    from vigil.sources.jsonl import JsonLinesSource
    from vigil.store.media import MediaSink

    ctx = SourceContext(media=MediaSink(path.parent / "m"))
    return [r for r in JsonLinesSource().read(path, ctx) if isinstance(r, Item)]
