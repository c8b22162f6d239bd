"""The TLSH index against a linear scan with py-tlsh's own ``tlsh.diff``."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import tlsh
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.banks.index import TLSHIndex
from vigil.banks.matcher import TLSH_THRESHOLD, Matcher
from vigil.banks.model import NewEntry
from vigil.banks.service import BankService
from vigil.banks.tlshindex import TLSHSegment, digest_rows, distances
from vigil.config import Config
from vigil.hashing.document import tlsh_of
from vigil.store import Store

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]


def _mutate(data: bytes, rng: random.Random, edits: int) -> bytes:
    out = bytearray(data)
    for _ in range(edits):
        kind = rng.randrange(3)
        at = rng.randrange(len(out))
        if kind == 0:
            out[at] = rng.randrange(256)
        elif kind == 1:
            out.insert(at, rng.randrange(256))
        elif len(out) > 60:
            del out[at]
    return bytes(out)


def _family(seed: int, size: int, variants: int) -> list[str]:
    """Digests of one random byte string and of edited copies of it (near, mid and far)."""
    rng = random.Random(seed)
    base = rng.randbytes(size)
    found = [tlsh_of(base)] + [
        tlsh_of(_mutate(base, rng, rng.choice([1, 5, 20, 80]))) for _ in range(variants)
    ]
    return [d for d in found if d]


def _linear(bank: list[str], queries: list[str], radius: int) -> set[tuple[int, int, int]]:
    return {
        (qi, row, d)
        for qi, q in enumerate(queries)
        for row, v in enumerate(bank)
        if (d := tlsh.diff(q, v)) <= radius
    }


def _found(q: np.ndarray, ids: np.ndarray, d: np.ndarray) -> set[tuple[int, int, int]]:
    return set(zip(q.tolist(), ids.tolist(), d.tolist(), strict=True))


@settings(max_examples=60, deadline=None)
@given(seeds=st.lists(st.integers(0, 2**32), min_size=2, max_size=6), size=st.integers(50, 4000))
def test_numpy_diff_equals_py_tlsh(seeds: list[int], size: int) -> None:
    digests = [d for s in seeds for d in _family(s, size, 3)]
    rows = digest_rows(digests)
    for i, q in enumerate(digests):
        got = distances(rows, np.repeat(rows[i : i + 1], len(rows), axis=0))
        assert got.tolist() == [tlsh.diff(q, v) for v in digests]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seeds=st.lists(st.integers(0, 2**32), min_size=1, max_size=8),
    size=st.integers(50, 3000),
    radius=st.sampled_from([0, 5, 16, 31, 32, TLSH_THRESHOLD, 47, 48, 63, 64, 90]),
)
def test_index_equals_linear_scan(seeds: list[int], size: int, radius: int) -> None:
    digests = [d for s in seeds for d in _family(s, size, 6)]
    bank, queries = digests[::2], digests[1::2] + digests[:3]
    seg = TLSHSegment.build(digest_rows(bank), np.arange(len(bank), dtype=np.int64))
    assert _found(*seg.search(digest_rows(queries), radius)) == _linear(bank, queries, radius)


def _documents(count: int, seed: int) -> list[bytes]:
    """Generated text files (neutral words) and edited copies of them: a few per base document."""
    rng = random.Random(seed)
    docs = []
    while len(docs) < count:
        base = " ".join(rng.choice(WORDS) for _ in range(rng.randint(80, 900))).encode()
        docs.append(base)
        for _ in range(rng.randint(0, 4)):
            words = base.split()
            for _ in range(rng.randint(1, len(words) // 8)):
                words[rng.randrange(len(words))] = rng.choice(WORDS).encode()
            docs.append(b" ".join(words))
    return docs[:count]


def test_index_equals_linear_scan_on_generated_documents() -> None:
    digests = [d for d in map(tlsh_of, _documents(3000, seed=5)) if d]
    assert len(digests) > 2900
    bank, queries = digests[:2500], digests[2500:] + digests[:100]
    seg = TLSHSegment.build(digest_rows(bank), np.arange(len(bank), dtype=np.int64))
    want = _linear(bank, queries, TLSH_THRESHOLD)
    assert len(want) > len(queries)  # the edited copies are near each other: there is something to find
    assert _found(*seg.search(digest_rows(queries), TLSH_THRESHOLD)) == want


@given(text=st.text(max_size=80))
def test_digest_rows_refuses_what_is_not_a_digest(text: str) -> None:
    try:
        rows = digest_rows([text])
    except ValueError as exc:
        assert "not a TLSH digest" in str(exc)
    else:
        assert rows.shape == (1, 35) and tlsh.diff(text, text) == 0


def test_digest_rows_accepts_both_spellings() -> None:
    digest = _family(1, 500, 0)[0]
    assert digest.startswith("T1")
    assert digest_rows([digest]).tolist() == digest_rows([digest[2:].lower()]).tolist()
    for bad in ["", "T1", digest + "0", digest[:-1], "T2" + digest[2:], digest[:-1] + "G"]:
        with pytest.raises(ValueError):
            digest_rows([bad])


def test_persisted_index_adds_disables_and_reloads(tmp_path: Path) -> None:
    digests = [d for s in range(12) for d in _family(s, 800, 4)]
    half = len(digests) // 2
    idx = TLSHIndex(tmp_path)
    idx.rebuild(digest_rows(digests[:half]), np.arange(half, dtype=np.int64), np.empty(0, np.int64), 1)
    idx.add(digest_rows(digests[half:]), np.arange(half, len(digests), dtype=np.int64), 2)
    idx.set_disabled(np.array([0, 1], dtype=np.int64), True, 3)
    want = {(q, i, d) for q, i, d in _linear(digests, digests, TLSH_THRESHOLD) if i not in (0, 1)}
    fresh = TLSHIndex(tmp_path)  # a new process: loads from disk
    assert fresh.version == 3 and len(fresh) == len(digests) and len(fresh.delta) == len(digests) - half
    assert _found(*fresh.search(digest_rows(digests), TLSH_THRESHOLD)) == want


def test_matcher_finds_tlsh_through_the_index(store: Store, config: Config) -> None:
    docs = _documents(60, seed=9)
    digests = list(dict.fromkeys(d for d in map(tlsh_of, docs) if d))
    service = BankService(store, config)
    service.create("docs")
    service.create("other")
    ids = service.add("docs", [NewEntry("tlsh", d) for d in digests[:40]])
    service.add("other", [NewEntry("pdq", "0" * 64)])  # a bank without TLSH entries
    matcher = Matcher(service)
    for q in digests:
        got = {(m.entry_id, m.distance) for m in matcher.match_tlsh(q)}
        want = {(i, tlsh.diff(q, v)) for i, v in zip(ids, digests[:40], strict=True)}
        assert got == {(i, d) for i, d in want if d <= TLSH_THRESHOLD}
    assert [m.entry_id for m in matcher.match_tlsh(digests[0])] and ids[0] in [
        m.entry_id for m in matcher.match_tlsh(digests[0])
    ]
    service.set_enabled([ids[0]], False)
    assert ids[0] not in [m.entry_id for m in Matcher(service).match_tlsh(digests[0])]
    added = service.add("docs", [NewEntry("tlsh", d) for d in digests[40:]])
    assert added and added[0] in [m.entry_id for m in Matcher(service).match_tlsh(digests[40])]
    with pytest.raises(ValueError, match="not a TLSH digest"):
        Matcher(service).match_tlsh("T1nothex")
