"""The PDQ index is exact: hypothesis checks it against brute force, through adds, disables and reloads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SHARED_DATA
from vigil.banks.index import PDQIndex
from vigil.banks.pdqindex import Segment, brute_force, hex_to_words, words_to_hex

REG = SHARED_DATA / "media" / "pdq" / "data" / "reg-test-input"


def _near(rng: np.random.Generator, base: np.ndarray, flips: int) -> np.ndarray:
    out = base.copy()
    for bit in rng.choice(256, flips, replace=False):
        out[bit // 64] ^= np.uint64(1) << np.uint64(63 - bit % 64)
    return out


@st.composite
def bank_and_queries(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(1, 300))
    radius = draw(st.sampled_from([0, 8, 15, 16, 31, 32, 40, 47, 70]))
    rng = np.random.default_rng(seed)
    words = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)
    # Queries near bank hashes at every distance around the radius, plus unrelated ones.
    queries = [
        _near(rng, words[rng.integers(n)], int(rng.integers(0, radius + 8)))
        for _ in range(draw(st.integers(1, 30)))
    ]
    queries.append(rng.integers(0, 2**64, size=4, dtype=np.uint64))
    return words, np.array(queries), radius


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bank_and_queries())
def test_segment_equals_brute_force(case: tuple[np.ndarray, np.ndarray, int]) -> None:
    words, queries, radius = case
    ids = np.arange(100, 100 + len(words), dtype=np.int64)
    q, i, d = Segment.build(words, ids).search(queries, radius)
    got = set(zip(q.tolist(), i.tolist(), d.tolist(), strict=True))
    assert got == brute_force(words, ids, queries, radius)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bank_and_queries(), st.data())
def test_persisted_index_with_adds_and_disables(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[np.ndarray, np.ndarray, int], data: st.DataObject
) -> None:
    words, queries, radius = case
    ids = np.arange(len(words), dtype=np.int64)
    split = data.draw(st.integers(0, len(words)))
    folder = tmp_path_factory.mktemp("idx")
    idx = PDQIndex(folder)
    idx.rebuild(words[:split], ids[:split], np.empty(0, np.int64), 1)
    idx.add(words[split:], ids[split:], 2)  # incremental: goes to the delta segment
    off = np.array(sorted(data.draw(st.sets(st.integers(0, len(words) - 1), max_size=10))), dtype=np.int64)
    idx.set_disabled(off, True, 3)
    fresh = PDQIndex(folder)  # a new process: loads from disk
    assert fresh.version == 3 and len(fresh) == len(words)
    q, i, d = fresh.search(queries, radius)
    expected = {t for t in brute_force(words, ids, queries, radius) if t[1] not in set(off.tolist())}
    assert set(zip(q.tolist(), i.tolist(), d.tolist(), strict=True)) == expected


def test_compaction_folds_delta_into_main(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vigil.banks.index as index_module

    monkeypatch.setattr(index_module, "MIN_DELTA", 10)
    rng = np.random.default_rng(7)
    words = rng.integers(0, 2**64, size=(40, 4), dtype=np.uint64)
    idx = PDQIndex(tmp_path)
    for k in range(4):
        idx.add(words[k * 10 : (k + 1) * 10], np.arange(k * 10, (k + 1) * 10), k + 1)
    assert len(idx.main) > 0 and len(idx) == 40
    _, i, d = idx.search(words, 0)
    assert sorted(i.tolist()) == list(range(40)) and not d.any()
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("main-")]) <= 2  # old generations go


def test_hex_round_trip() -> None:
    hexes = [x.strip() for x in (REG / "needles.txt").read_text().splitlines() if x.strip()]
    assert words_to_hex(hex_to_words(hexes)) == hexes


def test_needles_in_haystack_match_brute_force() -> None:
    hay = [x.strip() for x in (REG / "haystack.txt").read_text().splitlines() if x.strip()]
    needles = [x.strip() for x in (REG / "needles.txt").read_text().splitlines() if x.strip()]
    words, queries = hex_to_words(hay), hex_to_words(needles)
    ids = np.arange(len(hay), dtype=np.int64)
    q, i, d = Segment.build(words, ids).search(queries, 31)
    got = set(zip(q.tolist(), i.tolist(), d.tolist(), strict=True))
    assert got == brute_force(words, ids, queries, 31)
    # Half the needles are copies of haystack hashes, the rest are not there at all.
    assert {t[0] for t in got if t[2] == 0} == set(range(50))
