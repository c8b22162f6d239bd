"""The training split: grouped by account, near-duplicates and retweets kept out of the held-out side.

Every row gets a group: its account when the data names one, else its own id; a group's fold is a hash of
the group, so the split is the same on every run and no account sits on both sides. Exact duplicate
contents are dropped before the split (``train_text.prepare``). A row whose near-duplicate key (its first
eight content words: retweets, truncated copies, templated posts) also occurs in another fold is marked
``leaked``: it is still trained on, but never scored as held-out.
"""

from __future__ import annotations

import zlib
from collections import defaultdict


def near_dup_key(content: str) -> str:
    words = content.split()
    return " ".join(words[:8])


def assign_folds(groups: list[str], contents: list[str], n_folds: int = 5) -> tuple[list[int], list[bool]]:
    """A fold (0..n_folds-1) per row and whether the row has a near-duplicate in another fold."""
    folds = [zlib.crc32(g.encode("utf-8")) % n_folds for g in groups]
    where: dict[str, set[int]] = defaultdict(set)
    keys = [near_dup_key(c) for c in contents]
    for key, fold in zip(keys, folds, strict=True):
        where[key].add(fold)
    leaked = [len(where[key]) > 1 for key in keys]
    return folds, leaked
