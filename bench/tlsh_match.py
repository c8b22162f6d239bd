"""TLSH matching: vigil's TLSH index against linear scans, in one process, on the same bank and queries.

    .venv/bin/python bench/tlsh_match.py --sizes 10000,100000 --queries 200

The bank: TLSH digests (py-tlsh) of random byte strings of 200 B-8 kB, a fifth of them edited copies of
others (so that there are matches). Queries: half are edited copies of bank members (1-80 byte edits),
half unrelated. Compared: the index (``TLSHSegment``), the previous matcher's linear scan (``tlsh.diff``
against every entry) and a vectorised linear scan (``tlshindex.distances`` over the whole bank), all at
``TLSH_THRESHOLD``; the three must return the same (query, entry, distance) set.
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np
import tlsh

from vigil.banks.matcher import TLSH_THRESHOLD
from vigil.banks.tlshindex import TLSHSegment, digest_rows, distances


def edited(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.choice([1, 5, 20, 80])):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def make(n: int, queries: int, seed: int = 3) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    sources: list[bytes] = []
    bank: list[str] = []
    while len(bank) < n:
        data = (
            edited(rng.choice(sources), rng)
            if sources and rng.random() < 0.2
            else rng.randbytes(rng.randint(200, 8000))
        )
        digest = tlsh.hash(data)
        if digest and digest != "TNULL":
            sources.append(data) if len(sources) < 5000 else None
            bank.append(digest)
    qs: list[str] = []
    while len(qs) < queries:
        data = edited(rng.choice(sources), rng) if len(qs) % 2 == 0 else rng.randbytes(rng.randint(200, 8000))
        digest = tlsh.hash(data)
        if digest and digest != "TNULL":
            qs.append(digest)
    return bank, qs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    for n in (int(s) for s in args.sizes.split(",")):
        bank, queries = make(n, args.queries)
        rows, qrows = digest_rows(bank), digest_rows(queries)
        start = time.perf_counter()
        seg = TLSHSegment.build(rows, np.arange(n, dtype=np.int64))
        build = time.perf_counter() - start

        start = time.perf_counter()
        found = {tuple(t) for t in zip(*(a.tolist() for a in seg.search(qrows, TLSH_THRESHOLD)), strict=True)}
        t_index = time.perf_counter() - start

        start = time.perf_counter()
        linear = {
            (qi, row, d)
            for qi, q in enumerate(queries)
            for row, v in enumerate(bank)
            if (d := tlsh.diff(q, v)) <= TLSH_THRESHOLD
        }
        t_linear = time.perf_counter() - start

        start = time.perf_counter()
        vector = set()
        for qi in range(len(queries)):
            d = distances(rows, np.repeat(qrows[qi : qi + 1], n, axis=0))
            vector |= {(qi, int(r), int(d[r])) for r in np.flatnonzero(d <= TLSH_THRESHOLD)}
        t_vector = time.perf_counter() - start

        nq = len(queries)
        print(
            f"{n:>8,} entries, {nq} queries ({len(found)} matches), index built in {build:.2f} s:"
            f" index {nq / t_index:,.0f} q/s; linear tlsh.diff {nq / t_linear:,.1f} q/s"
            f" ({t_linear / t_index:,.0f}x); vectorised linear {nq / t_vector:,.1f} q/s"
            f" ({t_vector / t_index:,.1f}x); identical: {found == linear == vector}"
        )


if __name__ == "__main__":
    main()
