"""Banks in the store (SQLite and PostgreSQL): thresholds, negative banks, disabling, the flood guard,
the audit trail, incremental index updates, and a match that opens a case through the pipeline."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from tests.conftest import SHARED_DATA
from vigil import boot
from vigil.audit import log as audit
from vigil.banks.flood import record_item_matches, record_matches
from vigil.banks.matcher import Matcher
from vigil.banks.model import NewEntry
from vigil.banks.pdqindex import words_to_hex
from vigil.banks.service import BankService
from vigil.config import Config
from vigil.core.model import Item
from vigil.ingest.pipeline import Pipeline
from vigil.store import Store
from vigil.store.media import MediaSink


def _hashes(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return words_to_hex(rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64))


def _flip(hexhash: str, bits: int) -> str:
    value = int(hexhash, 16) ^ ((1 << bits) - 1)
    return f"{value:064x}"


def test_threshold_disable_and_incremental_index(store: Store, config: Config) -> None:
    service = BankService(store, config)
    service.create("tight", threshold=8)
    service.create("loose", threshold=31)
    base = _hashes(3)
    meta = {"outlet": "Outlet A", "ideology": "placeholder", "labels": ["x"], "anything": {"nested": 1}}
    tight = service.add("tight", [NewEntry("pdq", base[0], dict(meta), "list-a", "src-1")])
    loose = service.add("loose", [NewEntry("pdq", base[0], {}, "list-b", "src-2")])
    matcher = Matcher(service)
    near = _flip(base[0], 20)
    [result] = matcher.match_pdq([near])
    assert [(m.bank, m.entry_id, m.distance) for m in result.matches] == [("loose", loose[0], 20)]
    [exact] = Matcher(service).match_pdq([base[0]])
    found = {m.bank: m for m in exact.matches}
    assert found["tight"].entry_id == tight[0]
    assert {k: found["tight"].meta[k] for k in meta} == meta  # all metadata kept
    assert found["tight"].meta["source"] == "list-a" and found["tight"].meta["source_id"] == "src-1"
    # Adding and disabling take effect at once, without a rebuild (the index only grows a delta).
    added = service.add("loose", [NewEntry("pdq", base[1], {})])
    index = service.index(service.get("loose"))
    assert len(index.delta) >= 1
    assert [m.entry_id for m in Matcher(service, ["loose"]).match_pdq([base[1]])[0].matches] == added
    service.set_enabled(added, False, reason="test")
    assert Matcher(service, ["loose"]).match_pdq([base[1]])[0].matches == []
    service.set_enabled(added, True)
    assert len(Matcher(service, ["loose"]).match_pdq([base[1]])[0].matches) == 1
    actions = [e.action for e in audit.entries(store, limit=50)]
    assert {"bank.create", "bank.add", "bank.entry.disable", "bank.entry.enable"} <= set(actions)
    assert audit.verify(store).ok


def test_negative_bank_suppresses(store: Store, config: Config) -> None:
    service = BankService(store, config)
    service.create("known-bad")
    service.create("benign", negative=True)
    h = _hashes(1, seed=5)[0]
    service.add("known-bad", [NewEntry("pdq", h, {})])
    service.add("benign", [NewEntry("pdq", _flip(h, 3), {})])
    [result] = Matcher(service).match_pdq([h])
    assert result.matches == []
    assert [m.bank for m in result.suppressed] == ["known-bad"]
    assert [m.bank for m in result.negative] == ["benign"]


def test_flood_guard_quarantines_the_outlier(store: Store, config: Config) -> None:
    config.extra.update(bank_flood_min=10, bank_flood_factor=5)
    service = BankService(store, config)
    service.create("b")
    hs = _hashes(4, seed=9)
    ids = service.add("b", [NewEntry("pdq", h, {}) for h in hs])
    assert record_matches(service, [ids[0], ids[1], ids[2]]) == []
    flagged = record_matches(service, [ids[3]] * 30)
    assert flagged == [ids[3]]
    assert [e.id for e in service.review_queue()] == [ids[3]]
    assert Matcher(service).match_pdq([hs[3]])[0].matches == []  # out of matching at once
    assert Matcher(service).match_pdq([hs[0]])[0].matches  # its peers still match
    assert any(e.action == "bank.entry.quarantine" for e in audit.entries(store, limit=20))


def _drawn_image() -> bytes:
    img = Image.new("RGB", (640, 480), (30, 60, 90))
    draw = ImageDraw.Draw(img)
    for i in range(12):
        draw.ellipse((i * 40, i * 25, i * 40 + 200, i * 25 + 150), fill=(20 * i, 255 - 20 * i, 90 + 10 * i))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_scan_pipeline_opens_a_case_on_a_match(store: Store, config: Config, tmp_path: Path) -> None:
    from vigil.hashing.pdq import pdq_of

    data = _drawn_image()
    # Not the pipeline's database: the detector must match against the store it is given, never open one.
    config.database_url = f"sqlite:///{config.home / 'elsewhere.db'}"
    service = BankService(store, config)
    service.create("propaganda-images")
    result = pdq_of(data)
    service.add("propaganda-images", [NewEntry("pdq", result.hash, {"outlet": "Outlet A"}, "test", "r1")])
    sink = MediaSink(config.media_dir)
    edited = Image.open(io.BytesIO(data)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    buf = io.BytesIO()
    edited.save(buf, "JPEG", quality=80)
    media = sink.put_bytes(buf.getvalue(), "copy.jpg", "image/jpeg")
    other = sink.put_bytes(
        (SHARED_DATA / "media/pdq/data/reg-test-input/dih/bridge-1-original.jpg").read_bytes(),
        "bridge.jpg",
        "image/jpeg",
    )
    items = [
        Item(id="i1", source="test", text="a post", media=[media]),
        Item(id="i2", source="test", text="another post", media=[other]),
    ]
    detectors = boot.detectors(config, store)
    assert "hashmatch" in [d.name for d in detectors]
    outcome = Pipeline(store, detectors).process(items)
    assert outcome.cases == 1
    [signal] = [s for s in store.signals_for("i1") if s.detector == "hashmatch"]
    [match] = signal.meta["matches"]
    assert match["bank"] == "propaganda-images" and match["meta"]["outlet"] == "Outlet A"
    assert match["distance"] <= 31 and match["media"] == media.sha256
    assert not [s for s in store.signals_for("i2") if s.detector == "hashmatch"]


def test_an_item_scored_again_counts_its_match_once(store: Store, config: Config) -> None:
    """Issue 16, finding 6: a scan killed after the hash match and before its detection was stored is
    rescanned, and the item is matched again: the flood guard must count that item's match once, or a
    few kills would push an entry towards quarantine."""
    from vigil.detect.context import DetectorContext
    from vigil.detect.hashmatch import HashMatchDetector
    from vigil.hashing.pdq import pdq_of

    data = _drawn_image()
    service = BankService(store, config)
    service.create("known")
    [entry] = service.add("known", [NewEntry("pdq", pdq_of(data).hash, {})])
    media = MediaSink(config.media_dir).put_bytes(data, "a.png", "image/png")
    detector = HashMatchDetector(DetectorContext(config, store))
    post = Item(id="p1", source="test", text="a post", media=[media])
    for _ in range(3):  # the first run, then two rescans of the same, unrecorded item
        [signal] = detector.detect([post])
        assert signal.hit
    assert [e.match_count for e in service.entries("known")] == [1]
    detector.detect([Item(id="p2", source="test", text="another post", media=[media])])
    assert [e.id for e in service.entries("known")] == [entry]
    assert [e.match_count for e in service.entries("known")] == [2]


def test_the_flood_guard_counts_distinct_items(store: Store, config: Config) -> None:
    config.extra.update(bank_flood_min=10, bank_flood_factor=5)
    service = BankService(store, config)
    service.create("b")
    ids = service.add("b", [NewEntry("pdq", h, {}) for h in _hashes(4, seed=11)])
    assert record_item_matches(service, [(ids[0], "a"), (ids[1], "b"), (ids[2], "c")]) == []
    assert record_item_matches(service, [(ids[3], "same")] * 30) == []  # one item, however often
    assert record_item_matches(service, [(ids[3], "same")]) == []
    assert record_item_matches(service, [(ids[3], f"item-{n}") for n in range(30)]) == [ids[3]]


def test_video_variant_matches_by_vpdq_frames(store: Store, config: Config) -> None:
    from vigil.hashing.files import hash_file

    videos = SHARED_DATA / "media" / "tmk" / "sample-videos"
    service = BankService(store, config)
    service.create("videos")
    original = hash_file(videos / "pattern-sd-grey-bar.mp4")
    frames = " ".join(dict.fromkeys(f[2] for f in original["vpdq"] if f[1] >= 50))
    [entry] = service.add("videos", [NewEntry("vpdq", frames, {"outlet": "Outlet A"})])
    matcher = Matcher(service)
    logo = matcher.match_record(hash_file(videos / "pattern-sd-with-small-logo-bar.mp4"))
    assert [(m.entry_id, m.signal_type) for m in logo.matches] == [(entry, "vpdq")]
    assert logo.matches[0].meta["outlet"] == "Outlet A"
    assert matcher.match_record(hash_file(videos / "chair-20-sd-bar.mp4")).matches == []
