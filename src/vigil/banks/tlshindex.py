"""Exact radius search over TLSH digests, by multi-index hashing on the digest's body.

A TLSH digest (py-tlsh's default: ``T1`` + 70 hex digits) is a 3-byte header (checksum, log length L,
two quartile ratios Q1 Q2) and a 32-byte body of 128 two-bit codes, one per bucket (which quartile the
bucket's count fell in). ``tlsh.diff`` adds: 1 if the checksums differ; the circular difference d of L
(d if d <= 1, else 12 d); of Q1 and of Q2 (d if d <= 1, else 12 (d - 1)); and per bucket the code
difference (1, 2, or 6 for 3). That sum is **not a metric** (codes 0, 1, 3: 6 > 1 + 2; L 0, 1, 2: 24 > 1 + 1),
so metric trees (VP, BK) would miss matches. But every term is >= 0 and each bucket's term is >= the plain
code difference, so ``diff <= r`` implies that the codes' L1 distance is <= r. Split the body into 16
chunks of 8 buckets (16 bits): the 16 chunk distances sum to at most r, so one chunk is within r // 16
(pigeonhole). Probing, per chunk, every 8-code value within that L1 distance of the query's (145 values at
r = 40, fewer at the code range's edges) finds every candidate; each candidate then gets the exact
``tlsh.diff``, reimplemented in numpy (tested equal to py-tlsh). Nothing within r is missed.

Layout mirrors ``pdqindex.Segment`` (per chunk the rows sorted by chunk value and 65,537 offsets), so the
same persisted main/delta/disabled index (``index.py``) holds it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import combinations, product

import numpy as np
import numpy.typing as npt

from vigil.banks.pdqindex import I64

CHUNKS = 16
BUCKETS = 1 << 16
WIDTH = 35  # header (3) + body (32) bytes
MAX_RADIUS = 63  # probe sets grow fast past r // 16 = 3; above it, brute force
_BATCH = 64
_DIGEST = re.compile(r"^(?:T1)?([0-9A-Fa-f]{70})$")

U8 = npt.NDArray[np.uint8]


def _code_diffs() -> npt.NDArray[np.int64]:
    """diff of two body bytes (four 2-bit codes each), for every pair of bytes: index (a << 8) | b."""
    a = np.arange(256)[:, None]
    b = np.arange(256)[None, :]
    total = np.zeros((256, 256), dtype=np.int64)
    for k in range(4):
        d = np.abs(((a >> (2 * k)) & 3) - ((b >> (2 * k)) & 3))
        total += np.where(d == 3, 6, d)
    return total.ravel()


BODY_DIFF = _code_diffs().astype(np.uint8)


def digest_rows(digests: list[str]) -> U8:
    """TLSH digests -> (n, 35) bytes: checksum, L (nibbles restored), Q, then the 32 body bytes.
    Raises ValueError on anything that is not a 1-byte-checksum, 128-bucket digest."""
    out = np.empty((len(digests), WIDTH), dtype=np.uint8)
    for i, digest in enumerate(digests):
        m = _DIGEST.fullmatch(digest)
        if m is None:
            raise ValueError(f"not a TLSH digest: {digest[:80]!r}")
        out[i] = np.frombuffer(bytes.fromhex(m.group(1)), dtype=np.uint8)
    # The hex string swaps the nibbles of each header byte; L's circular difference needs the true value.
    out[:, 1] = (out[:, 1] >> 4) | (out[:, 1] << 4)
    return out


def _mod_diff(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64], size: int) -> npt.NDArray[np.int64]:
    d = np.abs(a - b)
    return np.minimum(d, size - d)


def _header_diff(a: U8, b: U8) -> npt.NDArray[np.int64]:
    """The checksum, L, Q1 and Q2 terms of ``tlsh.diff`` for (n, >= 3) rows."""
    a3 = a[:, :3].astype(np.int64)
    b3 = b[:, :3].astype(np.int64)
    dl = _mod_diff(a3[:, 1], b3[:, 1], 256)
    total = np.where(dl <= 1, dl, dl * 12)
    for shift in (0, 4):
        dq = _mod_diff((a3[:, 2] >> shift) & 15, (b3[:, 2] >> shift) & 15, 16)
        total += np.where(dq <= 1, dq, (dq - 1) * 12)
    total += a3[:, 0] != b3[:, 0]
    return total


def _body_diff(a: U8, b: U8) -> npt.NDArray[np.int64]:
    """The bucket terms of ``tlsh.diff`` for (n, k) body bytes."""
    return BODY_DIFF[(a.astype(np.int64) << 8) | b].sum(axis=1, dtype=np.int64)


def distances(rows: U8, queries: U8) -> npt.NDArray[np.int64]:
    """Row-wise ``tlsh.diff`` (with the length term) of two (n, 35) arrays."""
    return _header_diff(rows, queries) + _body_diff(rows[:, 3:], queries[:, 3:])


def chunk_keys(rows: U8) -> npt.NDArray[np.int64]:
    """(n, 35) -> (n, 16) chunk values: body bytes 2c and 2c + 1 as one 16-bit number."""
    body = rows[:, 3:].astype(np.int64)
    return (body[:, 0::2] << 8) | body[:, 1::2]


@lru_cache(maxsize=8)
def _patterns(max_l1: int) -> npt.NDArray[np.int64]:
    """Every change of 8 codes with total L1 <= max_l1, as (p, 8) deltas (cached: do not modify)."""
    found = [np.zeros(8, dtype=np.int64)]
    for k in range(1, max_l1 + 1):
        for where in combinations(range(8), k):
            for steps in product(range(1, max_l1 + 1), repeat=k):
                if sum(steps) > max_l1:
                    continue
                for signs in product((-1, 1), repeat=k):
                    delta = np.zeros(8, dtype=np.int64)
                    delta[list(where)] = np.array(steps) * np.array(signs)
                    found.append(delta)
    return np.array(found, dtype=np.int64)


def probes(keys: npt.NDArray[np.int64], max_l1: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """(q, 16) chunk values -> (q, 16, p) values within L1 ``max_l1`` and a mask of the valid ones."""
    shifts = 2 * np.arange(8, dtype=np.int64)
    codes = (keys[:, :, None] >> shifts) & 3  # (q, 16, 8)
    moved = codes[:, :, None, :] + _patterns(max_l1)[None, None, :, :]  # (q, 16, p, 8)
    valid: npt.NDArray[np.bool_] = np.asarray(((moved >= 0) & (moved <= 3)).all(axis=3))
    return (np.clip(moved, 0, 3) << shifts).sum(axis=3), valid


class TLSHSegment:
    """An immutable multi-index over ``words``, the (n, 35) digest rows (the attribute's name is the one
    the PDQ segment uses, so that ``index.py`` persists both), with the caller's ``ids`` (n,)."""

    ARRAYS = ("words", "ids", "order", "starts")

    def __init__(self, words: U8, ids: I64, order: npt.NDArray[np.uint32], starts: I64) -> None:
        self.words = words
        self.ids = ids
        self.order = order  # (16, n): row numbers sorted by chunk value, per chunk
        self.starts = starts  # (16 * 65537,): where each chunk value's rows begin in ``order``

    @classmethod
    def empty(cls) -> TLSHSegment:
        return cls.build(np.empty((0, WIDTH), dtype=np.uint8), np.empty(0, dtype=np.int64))

    @classmethod
    def build(cls, words: U8, ids: I64) -> TLSHSegment:
        words = np.ascontiguousarray(words, dtype=np.uint8).reshape(-1, WIDTH)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        keys = chunk_keys(words)
        order = np.empty((CHUNKS, len(words)), dtype=np.uint32)
        starts = np.zeros((CHUNKS, BUCKETS + 1), dtype=np.int64)
        for c in range(CHUNKS):
            order[c] = np.argsort(keys[:, c], kind="stable")
            starts[c, 1:] = np.cumsum(np.bincount(keys[:, c], minlength=BUCKETS))
        return cls(words, ids, order, starts.ravel())

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, queries: U8, radius: int) -> tuple[I64, I64, I64]:
        """All (query row, id, distance) with ``tlsh.diff`` <= radius; exact."""
        empty = np.empty(0, dtype=np.int64)
        if len(self) == 0 or len(queries) == 0:
            return empty, empty, empty
        parts = [
            self._brute(queries[lo : lo + _BATCH], lo, radius)
            if radius > MAX_RADIUS
            else self._search_batch(queries[lo : lo + _BATCH], lo, radius)
            for lo in range(0, len(queries), _BATCH)
        ]
        return tuple(np.concatenate([p[k] for p in parts]) for k in range(3))  # type: ignore[return-value]

    def _search_batch(self, queries: U8, offset: int, radius: int) -> tuple[I64, I64, I64]:
        nq, n = len(queries), len(self)
        values, valid = probes(chunk_keys(queries), radius // CHUNKS)  # (q, 16, p)
        chunk = np.arange(CHUNKS, dtype=np.int64)[None, :, None]
        slot = (values + chunk * (BUCKETS + 1)).ravel()
        begin = self.starts[slot]
        count = np.where(valid.ravel(), self.starts[slot + 1] - begin, 0)
        total = int(count.sum())
        if total == 0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty
        chunk_base = np.broadcast_to(chunk * n, values.shape).ravel()
        ends = np.cumsum(count)
        pos = np.repeat(begin + chunk_base - (ends - count), count) + np.arange(total, dtype=np.int64)
        qrow = np.repeat(np.arange(nq, dtype=np.int64).repeat(values.shape[1] * values.shape[2]), count)
        rows = np.take(np.asarray(self.order).ravel(), pos).astype(np.int64)
        # Cascade: the body's terms a quarter at a time, dropping candidates already past the radius
        # (an unrelated candidate is past it after the first quarter), then the header's.
        words = np.asarray(self.words)
        dist = np.zeros(len(rows), dtype=np.int64)
        for lo in range(3, WIDTH, 8):
            dist += _body_diff(words[rows, lo : lo + 8], queries[qrow, lo : lo + 8])
            keep = np.flatnonzero(dist <= radius)
            rows, qrow, dist = rows[keep], qrow[keep], dist[keep]
        dist += _header_diff(words[rows], queries[qrow])
        keep = np.flatnonzero(dist <= radius)
        rows, qrow, dist = rows[keep], qrow[keep], dist[keep]
        # A match found through several chunks is reported once.
        _, first = np.unique(qrow * n + rows, return_index=True)
        return qrow[first] + offset, self.ids[rows[first]], dist[first]

    def _brute(self, queries: U8, offset: int, radius: int) -> tuple[I64, I64, I64]:
        out_q, out_i, out_d = [], [], []
        for qi in range(len(queries)):
            d = distances(np.asarray(self.words), np.repeat(queries[qi : qi + 1], len(self), axis=0))
            hit = np.flatnonzero(d <= radius)
            out_q.append(np.full(len(hit), qi + offset, dtype=np.int64))
            out_i.append(self.ids[hit])
            out_d.append(d[hit])
        return np.concatenate(out_q), np.concatenate(out_i), np.concatenate(out_d)
