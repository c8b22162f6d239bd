"""Exact radius search over 256-bit PDQ hashes by multi-index hashing (Norouzi et al.).

The 256 bits are split into 16 chunks of 16 bits. If two hashes are within Hamming distance ``r``, at
least one chunk differs in at most ``r // 16`` bits (pigeonhole), so probing every chunk value within that
many bit flips of the query's chunk finds every candidate; each candidate's full distance is then checked.
Nothing within ``r`` is ever missed: the search is exact, not approximate.

A segment keeps, per chunk, the row numbers sorted by chunk value and a table of 65,537 offsets, so a
probe is one lookup. Queries run in vectorised batches (numpy), never one Python call per hash.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import numpy.typing as npt

CHUNKS = 16
CHUNK_BITS = 16
BUCKETS = 1 << CHUNK_BITS
MAX_RADIUS = 63  # above this the probe sets explode; brute force is used instead
_BATCH = 64

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]


def hex_to_words(hexes: list[str]) -> U64:
    """64-hex-digit PDQ hashes -> (n, 4) big-endian uint64 words (the hex's own bit order)."""
    raw = bytes.fromhex("".join(hexes))
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(-1, 4)


def words_to_hex(words: U64) -> list[str]:
    data = np.ascontiguousarray(words, dtype=np.uint64).astype(">u8").tobytes()
    return [data[i : i + 32].hex() for i in range(0, len(data), 32)]


def chunks_of(words: U64) -> npt.NDArray[np.uint16]:
    """(n, 4) words -> (n, 16) 16-bit chunk values, chunk 0 the most significant."""
    shifts = np.array([48, 32, 16, 0], dtype=np.uint64)
    parts = (words[:, :, None] >> shifts[None, None, :]) & np.uint64(0xFFFF)
    return parts.reshape(len(words), CHUNKS).astype(np.uint16)


def distances(a: U64, b: U64) -> npt.NDArray[np.int64]:
    """Row-wise Hamming distance of two (n, 4) arrays."""
    return np.bitwise_count(a ^ b).sum(axis=1, dtype=np.int64)


def folds(words: U64) -> tuple[U64, npt.NDArray[np.uint32]]:
    """A 96-bit fold of each hash (w0^w2, and w1^w3 folded to 32 bits). The distance between two folds is
    a lower bound of the distance between the hashes, and for unrelated hashes it is about 48, far above
    any match radius: a cheap, sequential first filter."""
    a = words[:, 0] ^ words[:, 2]
    b = words[:, 1] ^ words[:, 3]
    return a, ((b >> np.uint64(32)) ^ (b & np.uint64(0xFFFFFFFF))).astype(np.uint32)


def flip_masks(max_flips: int) -> npt.NDArray[np.uint16]:
    masks = [0]
    for k in range(1, max_flips + 1):
        for bits in combinations(range(CHUNK_BITS), k):
            masks.append(sum(1 << b for b in bits))
    return np.array(masks, dtype=np.uint16)


class Segment:
    """An immutable multi-index over ``words`` (n, 4) with the caller's ``ids`` (n,).

    ``cols`` holds the words column-major (4, n): one 1-D gather per word is far faster than gathering
    rows, and the distance check can stop after two words for almost every candidate.
    """

    ARRAYS = ("cols", "ids", "order", "starts", "fold_a", "fold_b")  # what ``index.py`` saves

    def __init__(
        self,
        cols: U64,
        ids: I64,
        order: npt.NDArray[np.uint32],
        starts: npt.NDArray[np.int64],
        fold_a: U64,
        fold_b: npt.NDArray[np.uint32],
    ) -> None:
        self.cols = cols  # (4, n)
        self.ids = ids
        self.order = order  # (16, n): row numbers sorted by chunk value, per chunk
        self.starts = starts  # (16 * 65537,): where each chunk value's rows begin in ``order``
        self.fold_a = fold_a  # (16, n): the folds in ``order``'s order, so the first check reads sequentially
        self.fold_b = fold_b

    @classmethod
    def empty(cls) -> Segment:
        return cls.build(np.empty((0, 4), dtype=np.uint64), np.empty(0, dtype=np.int64))

    @classmethod
    def build(cls, words: U64, ids: I64) -> Segment:
        words = np.ascontiguousarray(words, dtype=np.uint64).reshape(-1, 4)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        n = len(words)
        keys = chunks_of(words)
        fa, fb = folds(words)
        order = np.empty((CHUNKS, n), dtype=np.uint32)
        fold_a = np.empty((CHUNKS, n), dtype=np.uint64)
        fold_b = np.empty((CHUNKS, n), dtype=np.uint32)
        starts = np.zeros((CHUNKS, BUCKETS + 1), dtype=np.int64)
        for c in range(CHUNKS):
            col = keys[:, c]
            order[c] = np.argsort(col, kind="stable")
            fold_a[c] = fa[order[c]]
            fold_b[c] = fb[order[c]]
            starts[c, 1:] = np.cumsum(np.bincount(col, minlength=BUCKETS))
        return cls(np.ascontiguousarray(words.T), ids, order, starts.ravel(), fold_a, fold_b)

    @property
    def words(self) -> U64:
        return np.ascontiguousarray(np.asarray(self.cols).T)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, queries: U64, radius: int) -> tuple[I64, I64, I64]:
        """All (query row, id, distance) with distance <= radius; exact."""
        empty = np.empty(0, dtype=np.int64)
        if len(self) == 0 or len(queries) == 0:
            return empty, empty, empty
        if radius > MAX_RADIUS:
            return self._brute(queries, radius)
        masks = flip_masks(radius // CHUNKS)
        parts = [
            self._search_batch(queries[lo : lo + _BATCH], lo, radius, masks)
            for lo in range(0, len(queries), _BATCH)
        ]
        return tuple(np.concatenate([p[k] for p in parts]) for k in range(3))  # type: ignore[return-value]

    def _search_batch(
        self, queries: U64, offset: int, radius: int, masks: npt.NDArray[np.uint16]
    ) -> tuple[I64, I64, I64]:
        nq, n = len(queries), len(self)
        probes = (chunks_of(queries)[:, :, None] ^ masks[None, None, :]).astype(np.int64)  # (q, 16, p)
        chunk = np.arange(CHUNKS, dtype=np.int64)[None, :, None]
        slot = (probes + chunk * (BUCKETS + 1)).ravel()
        begin = self.starts[slot]
        count = self.starts[slot + 1] - begin
        total = int(count.sum())
        if total == 0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty
        # Expand each (begin, count) range into positions of ``order`` (flattened over chunks).
        chunk_base = np.broadcast_to(chunk * n, probes.shape).ravel()
        ends = np.cumsum(count)
        pos = np.repeat(begin + chunk_base - (ends - count), count) + np.arange(total, dtype=np.int64)
        qrow = np.repeat(np.arange(nq, dtype=np.intp).repeat(probes.shape[1] * probes.shape[2]), count)
        qa, qb = folds(queries)
        bound = np.bitwise_count(np.take(self.fold_a.ravel(), pos) ^ np.take(qa, qrow)).astype(np.int64)
        bound += np.bitwise_count(np.take(self.fold_b.ravel(), pos) ^ np.take(qb, qrow))
        keep = np.flatnonzero(bound <= radius)
        pos, qrow = pos[keep], qrow[keep]
        rows = np.take(np.asarray(self.order).ravel(), pos).astype(np.intp)
        qcols = np.ascontiguousarray(queries.T)
        # Cascade: after each word, drop candidates already past the radius.
        dist = np.zeros(len(rows), dtype=np.int64)
        for k in range(4):
            dist += np.bitwise_count(np.take(self.cols[k], rows) ^ np.take(qcols[k], qrow))
            keep = np.flatnonzero(dist <= radius)
            rows, qrow, dist = rows[keep], qrow[keep], dist[keep]
        # A candidate found through several chunks appears several times: keep one.
        key = qrow.astype(np.int64) * n + rows
        _, first = np.unique(key, return_index=True)
        return qrow[first].astype(np.int64) + offset, self.ids[rows[first]], dist[first]

    def _brute(self, queries: U64, radius: int) -> tuple[I64, I64, I64]:
        out_q, out_i, out_d = [], [], []
        words = self.words
        for qi in range(len(queries)):
            d = distances(words, queries[qi : qi + 1])
            hit = np.flatnonzero(d <= radius)
            out_q.append(np.full(len(hit), qi, dtype=np.int64))
            out_i.append(self.ids[hit])
            out_d.append(d[hit])
        return np.concatenate(out_q), np.concatenate(out_i), np.concatenate(out_d)


def brute_force(words: U64, ids: I64, queries: U64, radius: int) -> set[tuple[int, int, int]]:
    """The reference: every (query row, id, distance) within radius, by checking every pair."""
    found = set()
    for qi in range(len(queries)):
        d = distances(words, queries[qi : qi + 1])
        for row in np.flatnonzero(d <= radius):
            found.add((qi, int(ids[row]), int(d[row])))
    return found
