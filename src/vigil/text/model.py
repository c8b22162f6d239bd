"""The shipped first-stage text model: hashed features, a linear model, per-language calibration.

Files (written by ``vigil train text``, read here with numpy only; scikit-learn is not imported at run time):
``first_stage.npz`` holds the weights (float16, one per hash bucket); ``first_stage.json`` the bias, the
hash dimension, per-language Platt calibration, the operating threshold and the languages with labelled
training data. Outside those languages the score is capped below the threshold (see ``docs/text.md``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from vigil.errors import ConfigError
from vigil.text.bank import TextBank
from vigil.text.features import content_text, featurise, linear_scores
from vigil.text.langid import MIN_CONFIDENCE, detect_languages
from vigil.text.normalise import Normalised, normalise

MODEL_NAME = "first_stage"


def default_model_dir() -> Path:
    return Path(str(resources.files("vigil").joinpath("models/text")))


@dataclass(slots=True)
class Verdict:
    score: float
    label: int
    lang: str
    lang_confidence: float
    reasons: list[dict[str, Any]] = field(default_factory=list)
    norm: Normalised | None = None
    decision: float = 0.0


class TextModel:
    def __init__(self, weights: np.ndarray, meta: dict[str, Any], expert: np.ndarray | None = None) -> None:
        self.weights = weights.astype(np.float32)
        # The expert model (trained on the hand-labelled conversations) and its share per language.
        self.expert = expert.astype(np.float32) if expert is not None else None
        self.expert_bias = float(meta.get("expert_bias", 0.0))
        self.blend: dict[str, float] = dict(meta.get("blend", {})) if expert is not None else {}
        self.meta = meta
        self.dim = int(meta["dim"])
        self.bias = float(meta["bias"])
        self.threshold = float(meta["threshold"])
        self.calibration: dict[str, list[float]] = meta["calibration"]
        self.trained_langs = frozenset(meta["trained_langs"])
        self.untrained_cap = float(meta.get("untrained_cap", self.threshold / 2))
        self.version = str(meta.get("version", "0"))

    @classmethod
    def load(cls, folder: Path | None = None) -> TextModel:
        folder = folder or default_model_dir()
        try:
            meta = json.loads((folder / f"{MODEL_NAME}.json").read_text("utf-8"))
            with np.load(folder / f"{MODEL_NAME}.npz") as npz:
                weights = npz["weights"]
                expert = npz["expert"] if "expert" in npz.files else None
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(f"cannot load the text model from {folder}: {exc}") from exc
        if meta.get("blend") and expert is None:
            raise ConfigError(f"the text model in {folder} names an expert blend but ships no expert weights")
        return cls(weights, meta, expert)

    def calibrate(self, z: float, lang: str) -> float:
        a, b = self.calibration.get(lang) or self.calibration["*"]
        x = a * z + b
        return 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0

    def decisions(self, contents: list[str], langs: list[str] | None = None) -> np.ndarray:
        """Decision values; with ``langs``, each language's blend of the general and the expert model."""
        batch = featurise(contents, self.dim)
        z = linear_scores(batch, self.weights, self.bias)
        if self.expert is None or langs is None or not self.blend:
            return z
        share = np.asarray([self.blend.get(lang, 0.0) for lang in langs])
        if not share.any():
            return z
        return (1 - share) * z + share * linear_scores(batch, self.expert, self.expert_bias)

    def classify(
        self, texts: list[str], threshold: float | None = None, bank: TextBank | None = None, low: float = 0.1
    ) -> list[Verdict]:
        """First stage for every text; the bank (second stage) for those scored in ``[low, threshold)``."""
        threshold = self.threshold if threshold is None else threshold
        norms = [normalise(t) for t in texts]
        contents = [content_text(n.text) for n in norms]
        langs = detect_languages(contents, texts)
        z = self.decisions(contents, [lang for lang, _ in langs])
        out: list[Verdict] = []
        for norm, content, zi, (lang, conf) in zip(norms, contents, z, langs, strict=True):
            trusted = lang in self.trained_langs or conf < MIN_CONFIDENCE
            score = self.calibrate(float(zi), lang if lang in self.trained_langs else "*")
            reasons: list[dict[str, Any]] = []
            if not trusted and score > self.untrained_cap:
                score = self.untrained_cap
                reasons.append(
                    {"text": f"language {lang!r} has no labelled training data: score capped", "weight": 0.0}
                )
            if bank is not None and low <= score < threshold:
                match = bank.best_match(content)
                if match is not None:
                    score = max(score, min(1.0, 0.5 + 0.5 * match[1]))
                    reasons.append(
                        {
                            "text": f"near-duplicate of text bank entry {match[0]!r}",
                            "weight": round(match[1], 4),
                        }
                    )
            verdict = Verdict(round(score, 6), int(score >= threshold), lang, round(conf, 4), reasons, norm)
            verdict.decision = float(zi)
            if norm.mixed_script:
                verdict.reasons.append(
                    {"text": "mixed scripts in one word (homoglyph evasion)", "weight": 0.0}
                )
            out.append(verdict)
        flagged = [(v, c) for v, c in zip(out, contents, strict=True) if v.label]
        if flagged:
            contrib = self.word_contributions({w for _, c in flagged for w in c.split()})
            for verdict, content in flagged:
                assert verdict.norm is not None
                verdict.reasons[:0] = self.explain(verdict.norm, content, contrib)
        return out

    def word_contributions(self, words: set[str]) -> dict[str, float]:
        """How much each word alone moves the decision function (one featurisation for the whole batch)."""
        ordered = sorted(words)
        if not ordered:
            return {}
        values = self.decisions(ordered) - self.bias
        return dict(zip(ordered, (float(v) for v in values), strict=True))

    def explain(
        self, norm: Normalised, content: str, contrib: dict[str, float] | None = None, top: int = 3
    ) -> list[dict[str, Any]]:
        """The words that pushed the score up most, with their spans in the raw text."""
        words = set(content.split())
        if contrib is None:
            contrib = self.word_contributions(words)
        ranked = sorted(((contrib[w], w) for w in words), reverse=True)[:top]
        reasons = []
        for value, word in ranked:
            if value <= 0:
                break
            at = find_word(norm.text, word)
            start, end = norm.raw_span(at, at + len(word)) if at >= 0 else (None, None)
            reasons.append({"text": f"term {word!r}", "start": start, "end": end, "weight": round(value, 4)})
        return reasons


def find_word(text: str, word: str) -> int:
    """The first offset of ``word`` in ``text`` not inside a longer word; -1 when there is none."""
    at = text.find(word)
    while at >= 0:
        before = text[at - 1] if at > 0 else " "
        after = text[at + len(word)] if at + len(word) < len(text) else " "
        if not before.isalnum() and before != "_" and not after.isalnum() and after != "_":
            return at
        at = text.find(word, at + 1)
    return -1
