"""Throughput of ``vigil classify`` (the whole process, JSON in and out) and single-post latency.

    .venv/bin/python bench/classify.py [--posts 20000] [--data ../shared/data/text]

Prints: posts/s of the first stage over N posts drawn from the shared data (process start, imports, model
load, JSON parsing and writing included), the same with the startup cost subtracted (a 1-post run), the
cost of the second stage (MinHash text bank) per undecided post, and the in-process latency of
classifying one post at a time (p50/p99).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _posts(data: Path, n: int) -> list[dict[str, str]]:
    texts: list[str] = []
    for f in sorted(data.glob("*.jsonl")):
        with f.open(encoding="utf-8") as fh:
            texts.extend(json.loads(line)["text"] for line in fh)
    rng = random.Random(0)
    rng.shuffle(texts)
    return [{"id": str(i), "text": t} for i, t in zip(range(n), itertools.cycle(texts), strict=False)]


def _run(path: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "vigil", "classify", str(path)], capture_output=True, check=False
    )
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(proc.stderr.decode()[-2000:])
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=20_000)
    ap.add_argument("--data", type=Path, default=Path("../shared/data/text"))
    ap.add_argument("--second-stage-sample", type=int, default=40)
    args = ap.parse_args()
    posts = _posts(args.data, args.posts)
    with tempfile.TemporaryDirectory() as tmp:
        big, one = Path(tmp) / "posts.jsonl", Path(tmp) / "one.jsonl"
        big.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in posts), "utf-8")
        one.write_text(json.dumps(posts[0], ensure_ascii=False) + "\n", "utf-8")
        startup = min(_run(one) for _ in range(2))
        whole = _run(big)
    print(
        f"vigil classify, {len(posts)} posts, whole process: {whole:.2f} s = "
        f"{len(posts) / whole:,.0f} posts/s"
    )
    print(f"  process start + imports + model load (1-post run): {startup:.2f} s")
    print(f"  steady state without startup: {len(posts) / max(whole - startup, 1e-9):,.0f} posts/s")

    from vigil.text.model import TextModel

    model = TextModel.load()
    model.classify([posts[0]["text"]])
    lat = []
    for p in posts[:2000]:
        t0 = time.perf_counter()
        model.classify([p["text"]])
        lat.append((time.perf_counter() - t0) * 1000)
    q = statistics.quantiles(lat, n=100)
    print(f"single-post latency in process (2,000 posts): p50 {q[49]:.2f} ms, p99 {q[98]:.2f} ms")

    from vigil.text.bank import TextBank

    bank = TextBank()
    with (args.data / "fifth_tribe.jsonl").open(encoding="utf-8") as fh:
        for line in itertools.islice(fh, 2000):
            rec = json.loads(line)
            bank.add(rec["id"], rec["text"])
    texts = [p["text"] for p in posts[:5000]]
    t0 = time.perf_counter()
    first = model.classify(texts)
    t_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    both = model.classify(texts, bank=bank)
    t_both = time.perf_counter() - t0
    undecided = sum(1 for v in first if 0.1 <= v.score < model.threshold)
    lifted = sum(b.label and not f.label for f, b in zip(first, both, strict=True))
    print(
        f"second stage (MinHash bank of {len(bank)} texts) on {len(texts)} posts in process: first stage "
        f"{len(texts) / t_first:,.0f} posts/s, with bank {len(texts) / t_both:,.0f} posts/s; "
        f"{undecided} undecided looked up, {lifted} lifted to label 1; "
        f"extra cost {(t_both - t_first) / max(undecided, 1) * 1000:.2f} ms per undecided post"
    )


if __name__ == "__main__":
    main()
