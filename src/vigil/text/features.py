"""Hashed features on normalised text, computed for a whole batch at once with numpy.

Style cues are stripped before featurising (URLs, @handles, hashtag marks, a retweet "rt", digits, emoji and
punctuation): only runs of letters remain, so the model learns words rather than a data set's era or habits.
Features: character 2-5-grams over `` word word `` (spaces mark word edges), word unigrams and bigrams, all
hashed into ``dim`` buckets; each document's binary vector is L2-normalised.
"""

from __future__ import annotations

import itertools
import re
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

_URL = re.compile(r"(?:https?://|www\.)\S+|\S+\.(?:com|org|net|ly|co|it|me)/\S*|pic\.twitter\.com/\S+")
_HANDLE = re.compile(r"@\w+")
_RT = re.compile(r"(?<!\w)rt(?!\w)")
_LETTERS = re.compile(r"[^\W\d_]+")

_PRIME = np.uint64(1_000_003)
_MIX = np.uint64(0x9E3779B97F4A7C15)
CHAR_NS = (2, 3, 4, 5)


def content_text(norm: str) -> str:
    """The letters-only content of a normalised text (style cues removed)."""
    text = _URL.sub(" ", norm)
    text = _HANDLE.sub(" ", text)
    text = _RT.sub(" ", text)
    return " ".join(_LETTERS.findall(text))


@dataclass(slots=True)
class Batch:
    """Sparse binary features: ``docs[k]`` holds bucket ``cols[k]``; ``scale[d]`` is 1/sqrt(nnz of d)."""

    docs: np.ndarray
    cols: np.ndarray
    scale: np.ndarray
    n: int


def _mix(h: np.ndarray, salt: int) -> np.ndarray:
    h = h ^ np.uint64(salt * 0x1000193)
    h = h * _MIX
    h ^= h >> np.uint64(31)
    return h


def _char_hashes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    joined = "\x00".join(f" {t} " if t else "" for t in texts) + "\x00"
    cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    sep = cps == 0
    csum = np.concatenate(([0], np.cumsum(sep)))
    doc_at = csum[:-1]
    length = len(cps)
    all_h, all_d = [], []
    rolling = cps.copy()
    for n in range(1, max(CHAR_NS) + 1):
        if length - n + 1 <= 0:
            break
        if n > 1:
            rolling = rolling[:-1] * _PRIME + cps[n - 1 :]
        if n not in CHAR_NS:
            continue
        count = length - n + 1
        valid = (csum[n : n + count] - csum[:count]) == 0
        all_h.append(_mix(rolling[valid], n))
        all_d.append(doc_at[:count][valid])
    if not all_h:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    return np.concatenate(all_h), np.concatenate(all_d)


def _word_hashes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    hashes: list[int] = []
    docs: list[int] = []
    for d, text in enumerate(texts):
        words = text.split()
        hs = [zlib.crc32(w.encode("utf-8")) for w in words]
        hashes.extend(hs)
        docs.extend([d] * len(hs))
        hashes.extend(a * 1_000_003 + b + 7 for a, b in itertools.pairwise(hs))
        docs.extend([d] * max(len(hs) - 1, 0))
    h = np.asarray(hashes, dtype=np.uint64)
    return _mix(h, 97), np.asarray(docs, dtype=np.int64)


def featurise(texts: list[str], dim: int) -> Batch:
    """Features of content texts (already passed through :func:`content_text`)."""
    ch, cd = _char_hashes(texts)
    wh, wd = _word_hashes(texts)
    cols = (np.concatenate((ch, wh)) % np.uint64(dim)).astype(np.int64)
    docs = np.concatenate((cd.astype(np.int64), wd))
    keys = np.sort(docs * dim + cols)  # np.unique is hash-based and slow in numpy 2.4
    if len(keys):
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    docs, cols = keys // dim, keys % dim
    nnz = np.bincount(docs, minlength=len(texts)).astype(np.float64)
    scale = 1.0 / np.sqrt(np.maximum(nnz, 1.0))
    return Batch(docs, cols, scale, len(texts))


def to_csr(batch: Batch, dim: int) -> Any:
    """A scipy CSR matrix of the batch (training only: scipy is not imported at classify time)."""
    from scipy.sparse import csr_matrix

    data = batch.scale[batch.docs]
    return csr_matrix((data, (batch.docs, batch.cols)), shape=(batch.n, dim), dtype=np.float64)


def linear_scores(batch: Batch, weights: np.ndarray, bias: float) -> np.ndarray:
    """Decision values ``w . x + b`` for every document of the batch."""
    contrib = weights[batch.cols].astype(np.float64) * batch.scale[batch.docs]
    return np.bincount(batch.docs, weights=contrib, minlength=batch.n) + bias
