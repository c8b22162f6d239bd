"""Evasion transforms, for robustness tests and evaluation: what propagandists do to slip past filters.

Every transform here is undone by :mod:`vigil.text.normalise` (the property tests check it): homoglyphs
(Cyrillic/Greek look-alikes), zero-width characters, leetspeak, Arabic tatweel and diacritics, accents on
Latin letters, fullwidth forms, letter floods.
"""

from __future__ import annotations

import random

HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "i": "і", "y": "у", "s": "ѕ"}
LEET = {"o": "0", "i": "1", "e": "3", "a": "4", "s": "5", "t": "7"}
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
ARABIC_DIACRITICS = ("\u064e", "\u064f", "\u0650", "\u0651", "\u0652", "\u064b")
TATWEEL = "\u0640"


def _is_arabic_letter(ch: str) -> bool:
    return "\u0621" <= ch <= "\u064a"


def obfuscate(text: str, rng: random.Random, rate: float = 0.3) -> str:
    """Apply a random mix of evasion transforms to about ``rate`` of the characters of ``text``."""
    out: list[str] = []
    words = text.split(" ")
    for w_index, word in enumerate(words):
        letters = [i for i, c in enumerate(word) if c.isalpha()]
        keep = letters[0] if letters else -1  # one letter per word stays plain, so leet stays decodable
        chars: list[str] = []
        for i, ch in enumerate(word):
            r = rng.random()
            if i == keep or r >= rate:
                chars.append(ch)
            elif _is_arabic_letter(ch):
                chars.append(ch + (TATWEEL if r < rate / 2 else rng.choice(ARABIC_DIACRITICS)))
            elif ch in HOMOGLYPHS and r < rate / 3:
                chars.append(HOMOGLYPHS[ch])
            elif ch in LEET and r < 2 * rate / 3:
                chars.append(LEET[ch])
            else:
                chars.append(ch + rng.choice(ZERO_WIDTH))
        out.append("".join(chars))
        if w_index < len(words) - 1:
            out.append(" ")
    return "".join(out)
