"""PDQ matching speed: vigil's index against threatexchange's PDQ index, on the same random banks.

    .venv/bin/python bench/match.py                 # 10k and 1M in process, images/s, whole process at 1M
    .venv/bin/python bench/match.py --sizes 10000,1000000,10000000   # 10M too (about 3 GB of RAM)
    .venv/bin/python bench/match.py --skip-process  # only the in-process figures

Queries: half are bank hashes with 0-40 random bits flipped (so matches fall on both sides of the
radius), half are random. Both indexes must return the same matches as brute force on a sample;
threatexchange's ``PDQIndex`` (faiss IndexBinaryMultiHash, nflip=0) is not exact beyond distance 15,
so its misses are counted and printed rather than hidden.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from vigil.banks.index import PDQIndex
from vigil.banks.pdqindex import brute_force, hex_to_words, words_to_hex

RADIUS = 31


def make_bank(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2**64, size=(n, 4), dtype=np.uint64)


def make_queries(bank: np.ndarray, count: int, seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    near = bank[rng.integers(0, len(bank), count // 2)].copy()
    for row in near:
        for bit in rng.choice(256, int(rng.integers(0, 41)), replace=False):
            row[bit // 64] ^= np.uint64(1) << np.uint64(63 - bit % 64)
    return np.concatenate([near, rng.integers(0, 2**64, size=(count - len(near), 4), dtype=np.uint64)])


def ours(bank: np.ndarray, queries: np.ndarray, folder: Path) -> dict[str, object]:
    ids = np.arange(len(bank), dtype=np.int64)
    t = time.perf_counter()
    PDQIndex(folder).rebuild(bank, ids, np.empty(0, np.int64), 1)
    build = time.perf_counter() - t
    t = time.perf_counter()
    idx = PDQIndex(folder)
    load = time.perf_counter() - t
    idx.search(queries[:64], RADIUS)  # touch the memory-mapped pages once
    t = time.perf_counter()
    q, i, _ = idx.search(queries, RADIUS)
    secs = time.perf_counter() - t
    nbytes = sum(
        getattr(seg, a).nbytes
        for seg in (idx.main,)
        for a in ("cols", "ids", "order", "starts", "fold_a", "fold_b")
    )
    matches = {(int(a), int(b)) for a, b in zip(q, i, strict=True)}
    return {
        "build_s": build,
        "load_s": load,
        "qps": len(queries) / secs,
        "matches": matches,
        "bytes_per_hash": nbytes / len(bank),
    }


def theirs(bank_hex: list[str], query_hex: list[str]) -> dict[str, object]:
    from threatexchange.signal_type.pdq.pdq_index import PDQIndex as TEIndex

    t = time.perf_counter()
    index = TEIndex(((h, i) for i, h in enumerate(bank_hex)))
    build = time.perf_counter() - t
    t = time.perf_counter()
    matches = set()
    for qi, h in enumerate(query_hex):
        for m in index.query(h):
            matches.add((qi, int(m.metadata)))
    secs = time.perf_counter() - t
    return {"build_s": build, "qps": len(query_hex) / secs, "matches": matches, "index": index}


def compare(n: int, nq: int, tmp: Path) -> None:
    bank = make_bank(n)
    queries = make_queries(bank, nq)
    mine = ours(bank, queries, tmp / f"idx-{n}")
    bank_hex, query_hex = words_to_hex(bank), words_to_hex(queries)
    te = theirs(bank_hex, query_hex)
    sample = min(nq, 300)
    truth = {(q, i) for q, i, _ in brute_force(bank, np.arange(n), queries[:sample], RADIUS)}
    mine_s = {m for m in mine["matches"] if m[0] < sample}  # type: ignore[attr-defined]
    te_s = {m for m in te["matches"] if m[0] < sample}  # type: ignore[attr-defined]
    same = mine["matches"] == te["matches"]
    print(
        f"bank {n:>10,}: vigil {mine['qps']:>9,.0f} q/s  threatexchange {te['qps']:>7,.0f} q/s  "
        f"ratio {mine['qps'] / te['qps']:.1f}x | build vigil {mine['build_s']:.1f} s, "
        f"te {te['build_s']:.1f} s"
        f" | load vigil {mine['load_s'] * 1000:.1f} ms | {mine['bytes_per_hash']:.0f} B/hash "
        f"({mine['bytes_per_hash']:.0f} MB per million)"
    )
    print(
        f"   matches: vigil {len(mine['matches'])}, threatexchange {len(te['matches'])}, identical={same}; "  # type: ignore[arg-type]
        f"on {sample} queries vs brute force: vigil exact={mine_s == truth}, "
        f"threatexchange missed {len(truth - te_s)} of {len(truth)}, extra {len(te_s - truth)}"
    )
    if n == 1_000_000:
        compare.cache = (bank_hex, query_hex, te["index"])  # type: ignore[attr-defined]


def images_per_second(count: int = 20) -> None:
    from vigil.hashing.pdq import pdq_of

    rng = np.random.default_rng(3)
    blobs = []
    for _ in range(count):
        img = Image.new("RGB", (1155, 866), tuple(int(v) for v in rng.integers(0, 255, 3)))
        draw = ImageDraw.Draw(img)
        for _ in range(40):
            x, y = int(rng.integers(0, 1100)), int(rng.integers(0, 800))
            draw.rectangle((x, y, x + 120, y + 90), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=85)
        blobs.append(buf.getvalue())
    t = time.perf_counter()
    for blob in blobs:
        pdq_of(blob)
    secs = time.perf_counter() - t
    print(f"images: {count / secs:.1f} 1-megapixel JPEGs/s hashed (decode, trim, PDQ + 8 dihedral + square)")


TE_SCRIPT = """
import json, pickle, sys
with open(sys.argv[1], 'rb') as fh:
    index = pickle.load(fh)
out = sys.stdout
for line in open(sys.argv[2]):
    h = line.strip()
    ms = [{"entry_id": int(m.metadata), "distance": m.similarity_info.distance} for m in index.query(h)]
    out.write(json.dumps({"query": h, "matches": ms}) + "\\n")
"""


def whole_process(tmp: Path, nq: int) -> None:
    bank_hex, _, te_index = compare.cache  # type: ignore[attr-defined]
    bank = hex_to_words(bank_hex)
    queries = words_to_hex(make_queries(bank, nq, seed=4))
    qfile = tmp / "queries.txt"
    qfile.write_text("\n".join(queries) + "\n")
    home = tmp / "home"
    env = {**os.environ, "VIGIL_HOME": str(home)}
    env.pop("VIGIL_DATABASE_URL", None)
    vigil = [sys.executable, "-m", "vigil"]
    subprocess.run([*vigil, "bank", "create", "big"], env=env, check=True, capture_output=True)
    (tmp / "bank.txt").write_text("\n".join(bank_hex) + "\n")
    t = time.perf_counter()
    subprocess.run(
        [*vigil, "bank", "import", "big", str(tmp / "bank.txt")], env=env, check=True, capture_output=True
    )
    print(f"whole process: vigil bank import of 1M hashes took {time.perf_counter() - t:.0f} s (once)")
    subprocess.run(
        [*vigil, "match", "--bank", "big", "--hash-file", str(qfile)],
        env=env,
        check=True,
        capture_output=True,
    )  # first run after import: the index is already built and saved
    t = time.perf_counter()
    mine = subprocess.run(
        [*vigil, "match", "--bank", "big", "--hash-file", str(qfile)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    vigil_s = time.perf_counter() - t
    with (tmp / "te.pickle").open("wb") as fh:
        pickle.dump(te_index, fh)
    (tmp / "te.py").write_text(TE_SCRIPT)
    t = time.perf_counter()
    te = subprocess.run(
        [sys.executable, str(tmp / "te.py"), str(tmp / "te.pickle"), str(qfile)],
        check=True,
        capture_output=True,
        text=True,
    )
    te_s = time.perf_counter() - t
    # vigil's entry ids are 1-based import order; threatexchange's are 0-based list positions.
    ours_set = {
        (r["query"], m["entry_id"] - 1)
        for r in map(json.loads, mine.stdout.splitlines())
        for m in r["matches"]
    }
    te_set = {
        (r["query"], m["entry_id"]) for r in map(json.loads, te.stdout.splitlines()) for m in r["matches"]
    }
    print(
        f"whole process, {nq:,} queries against 1M: vigil match --hash-file {vigil_s:.1f} s "
        f"({nq / vigil_s:,.0f} q/s), threatexchange (unpickle + query) {te_s:.1f} s ({nq / te_s:,.0f} q/s): "
        f"{te_s / vigil_s:.1f}x"
    )
    print(
        f"   matches: vigil {len(ours_set)}, threatexchange {len(te_set)}, identical={ours_set == te_set}, "
        f"threatexchange's all found by vigil={te_set <= ours_set}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,1000000")
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--process-queries", type=int, default=10000)
    ap.add_argument("--skip-process", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            compare(n, args.queries, Path(tmp))
        images_per_second()
        if not args.skip_process and hasattr(compare, "cache"):
            whole_process(Path(tmp), args.process_queries)


if __name__ == "__main__":
    main()
