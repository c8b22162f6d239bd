"""The composition root (``vigil.boot``) and the seams it wires: regression tests for the defects that came
from wiring redone at each call site (issue 14)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from tests.conftest import SHARED_DATA
from tests.evidence_helpers import run_cli
from vigil import boot
from vigil.config import Config
from vigil.core.model import Item
from vigil.detect.context import DetectorContext
from vigil.detect.text import TextClassifierDetector
from vigil.ingest.jetstream import delete_stream
from vigil.store import Store
from vigil.text.bank import default_bank
from vigil.text.model import TextModel

NATS_URL = "nats://127.0.0.1:4222"


def _undecided_text(model: TextModel) -> str:
    """A real post from the shared data that the first stage alone leaves undecided (the band in which the
    second stage, the text bank, is consulted)."""
    with (SHARED_DATA / "text" / "fifth_tribe.jsonl").open(encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for _, line in zip(range(3000), fh, strict=False)]
    scores = model.classify(texts)
    return next(
        t for t, v in zip(texts, scores, strict=True) if 0.15 <= v.score < 0.45 and len(t.split()) > 8
    )


def test_scan_detector_and_classify_apply_the_same_text_bank(home: Path, config: Config) -> None:
    """``vigil classify`` consulted ``$VIGIL_HOME/textbank.jsonl`` and the scan's ``text`` detector did not:
    the same text scored differently in the two commands."""
    model = TextModel.load()
    text = _undecided_text(model)
    (home / "textbank.jsonl").write_text(json.dumps({"id": "known-1", "text": text}) + "\n", "utf-8")
    posts = home / "posts.jsonl"
    posts.write_text(json.dumps({"id": "p1", "text": text}) + "\n", "utf-8")

    done = run_cli(["classify", str(posts)], home)
    assert done.returncode == 0, done.stderr
    classified = json.loads(done.stdout)
    [signal] = TextClassifierDetector(DetectorContext(config)).detect([Item(id="p1", source="t", text=text)])
    assert classified["score"] == pytest.approx(signal.score)
    assert classified["label"] == 1 and signal.hit  # both lifted by the bank entry
    assert any("known-1" in r.text for r in signal.reasons)
    assert default_bank(home) is not None and default_bank(home / "elsewhere") is None


@pytest.fixture
def queue_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Config]:
    stream = f"VIGIL_TEST_{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("VIGIL_QUEUE_URL", NATS_URL)
    monkeypatch.setenv("VIGIL_QUEUE_STREAM", stream)
    config = Config.load(home)
    yield config
    asyncio.run(delete_stream(config))


async def _queued(config: Config) -> int:
    nc = await nats.connect(config.queue_url)
    try:
        return int((await nc.jetstream().stream_info(config.queue_stream)).state.messages)
    finally:
        await nc.close()


def test_scan_publishes_to_the_configured_queue(queue_home: Config) -> None:
    """``vigil scan`` ignored ``queue_url`` (crawl and watch honoured it): with a queue configured the scan
    publishes its items for the workers and detects nothing itself."""
    home = queue_home.home
    (home / "watchlist.txt").write_text("flagged-term\n", "utf-8")
    posts = home / "posts.jsonl"
    posts.write_text(
        "".join(json.dumps({"id": str(i), "text": f"post {i} flagged-term"}) + "\n" for i in range(7)),
        "utf-8",
    )
    done = run_cli(["scan", str(posts), "--json"], home)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["items"] == 7 and summary["detections"] == 0 and summary["cases"] == 0
    assert asyncio.run(_queued(queue_home)) == 7
    with boot.store_session(queue_home) as store:
        assert store.count("items") == 0  # the workers store what they take from the queue

    refused = run_cli(["scan", str(posts), "--executor", "ray"], home)
    assert refused.returncode == 2 and "queue_url" in refused.stderr


def test_pipeline_scores_items_stored_without_their_detection(store: Store) -> None:
    """A run killed between storing items and storing their signals and cases: the items are no longer
    new when they come again, and still get exactly one case each (the pipeline, not the NATS worker,
    is idempotent)."""
    from vigil.detect.watchlist import WatchlistDetector
    from vigil.ingest.pipeline import Pipeline

    batch = [
        Item(id=f"i{i}", source="t", text=f"post {i}" + (" flagged-term" if i % 4 == 0 else ""))
        for i in range(12)
    ]
    store.add_items(batch[:8])  # what the killed run committed
    pipeline = Pipeline(store, [WatchlistDetector(terms={"flagged-term": 1.0})], hooks=[])
    first = pipeline.process(batch)
    assert (first.new_items, first.cases) == (4, 3)
    again = pipeline.process(batch)
    assert (again.new_items, again.detections, again.cases) == (0, 0, 0)
    assert store.count("cases") == 3 and store.count("signals") == 3
    assert store.undetected([i.id for i in batch]) == set()


def _sample_posts() -> list[dict[str, str]]:
    """Real posts of several languages from the shared data (labels not used)."""
    rows = []
    for name, n in (("fifth_tribe.jsonl", 6), ("arabic_general_tweets.jsonl", 4), ("sib200.jsonl", 4)):
        with (SHARED_DATA / "text" / name).open(encoding="utf-8") as fh:
            rows += [json.loads(line) for _, line in zip(range(n), fh, strict=False)]
    return [{"id": f"p{i}", "text": r["text"]} for i, r in enumerate(rows)]


def test_one_scoring_path_and_the_language_on_the_item(queue_home: Config) -> None:
    """``vigil classify``, the scan's ``text`` detector and a queue worker give one score for one text, and
    the language detection found is stored on the item (every scanned item showed "unknown")."""
    import io

    from sqlalchemy import select

    from vigil.ingest.jetstream import JetStreamPublisher, run_worker
    from vigil.store.schema import items, signals
    from vigil.text.classify import classify_stream

    home = queue_home.home
    posts = _sample_posts()
    out = io.StringIO()
    classify_stream((json.dumps(p) + "\n" for p in posts), out, TextModel.load(), None)
    classified = {r["id"]: r for r in map(json.loads, out.getvalue().splitlines())}

    def stored(store: Store) -> dict[str, tuple[float, str | None]]:
        with store.read() as conn:
            rows = conn.execute(
                select(items.c.native_id, signals.c.score, items.c.lang)
                .join(signals, signals.c.item_id == items.c.id)
                .where(signals.c.detector == "text")
            ).all()
        return {r[0]: (r[1], r[2]) for r in rows}

    path = home / "posts.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in posts), "utf-8")
    local = Config.load(home, queue_url="", detectors=("text",))
    with boot.store_session(local) as store:
        from vigil.ingest.scan import Scanner

        Scanner(local, store, boot.detectors(local, store)).scan(str(path))
        scanned = stored(store)

    worker_config = Config.load(home, detectors=("text",), database_url=f"sqlite:///{home / 'worker.db'}")
    publisher = JetStreamPublisher(worker_config)
    from vigil.sources.base import SourceContext
    from vigil.sources.jsonl import JsonLinesSource
    from vigil.store.media import MediaSink

    read = [
        r
        for r in JsonLinesSource().read(path, SourceContext(media=MediaSink(home / "media")))
        if isinstance(r, Item)
    ]
    publisher.process(read)
    publisher.close()
    with boot.store_session(worker_config) as wstore:
        stop = asyncio.Event()
        asyncio.run(
            run_worker(worker_config, wstore, boot.detectors(worker_config, wstore), stop, idle_exit=1.0)
        )
        worked = stored(wstore)

    assert set(scanned) == set(worked) == {p["id"] for p in posts}
    for pid, verdict in classified.items():
        assert scanned[pid][0] == pytest.approx(verdict["score"]) == worked[pid][0]
        expected_lang = None if verdict["lang"] == "und" else verdict["lang"]
        assert scanned[pid][1] == expected_lang == worked[pid][1]
    assert {lang for _, lang in scanned.values()} >= {"ar", "en"}
