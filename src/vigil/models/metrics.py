"""Precision, recall, F1 and false-positive rate, overall and per group (language, source)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass


@dataclass(slots=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, label: int, pred: int) -> None:
        if label and pred:
            self.tp += 1
        elif pred:
            self.fp += 1
        elif label:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def fp_rate(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0

    def to_dict(self) -> dict[str, float | int]:
        return {
            "n": self.n,
            "positives": self.tp + self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "fp_rate": round(self.fp_rate, 4),
        }


def grouped(
    labels: list[int], preds: list[int], keys: dict[str, list[str]]
) -> dict[str, dict[str, dict[str, float | int]]]:
    """``{"all": {"all": ...}, "lang": {"en": ...}, "source": {...}}`` for each kind of key given."""
    out: dict[str, dict[str, dict[str, float | int]]] = {}
    total = Counts()
    for y, p in zip(labels, preds, strict=True):
        total.add(y, p)
    out["all"] = {"all": total.to_dict()}
    for kind, values in keys.items():
        per: dict[str, Counts] = defaultdict(Counts)
        for y, p, k in zip(labels, preds, values, strict=True):
            per[k].add(y, p)
        out[kind] = {k: c.to_dict() for k, c in sorted(per.items(), key=lambda kv: -kv[1].n)}
    return out


def best_f1_threshold(labels: list[int], scores: list[float], weights: list[float] | None = None) -> float:
    """The score threshold that maximises (weighted) F1 (ties: the higher threshold)."""
    ws = weights if weights is not None else [1.0] * len(labels)
    triples = sorted(zip(scores, labels, ws, strict=True), key=lambda t: t[0], reverse=True)
    total_pos = sum(w for y, w in zip(labels, ws, strict=True) if y)
    tp = fp = 0.0
    best, best_t = -1.0, 0.5
    for s, y, w in triples:
        tp += w * y
        fp += w * (1 - y)
        f1 = 2 * tp / (tp + fp + total_pos) if total_pos else 0.0
        if f1 > best:
            best, best_t = f1, s
    return float(best_t)
