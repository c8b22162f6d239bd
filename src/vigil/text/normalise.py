"""Normalisation against evasion, with a map back to the raw text.

Steps, per character then per token:

1. compatibility decomposition (NFKD, so NFKC's folding plus accent separation), then every combining mark
   (Latin accents, Arabic harakat, the hamza carried by alef/waw/yeh) is dropped and the rest casefolded;
2. default-ignorable and format characters (zero-width space/joiners, BOM, soft hyphen, variation
   selectors, bidi controls, tag characters, Hangul fillers) and the Arabic tatweel are removed;
3. Arabic letters folded: alef forms -> ا, alef maqsura -> ي, ta marbuta -> ه, Persian/Urdu kaf and yeh
   -> Arabic, Arabic-Indic digits -> ASCII digits;
4. confusable homoglyphs (Unicode TS #39 confusables, compact table in ``vigil/data/text``) fold to their
   ASCII skeleton when the text is mostly Latin or the word mixes scripts; a word mixing scripts sets
   ``mixed_script``;
5. leetspeak folds inside words that also hold letters (``0 1 3 4 5 7 @ $`` -> ``o i e a s t a s``);
6. floods collapse: a run of three or more of the same character becomes one.

``Normalised.offsets[i]`` is the index in the raw text of normalised character ``i``, so a span found on the
normalised text maps back to the raw text with :meth:`Normalised.raw_span`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x0640, 0x0640),  # Arabic tatweel (kashida)
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0x1BCA0, 0x1BCA3),
    (0xE0000, 0xE0FFF),
)

_ARABIC = {
    "\u0622": "\u0627",  # آ
    "\u0623": "\u0627",  # أ
    "\u0625": "\u0627",  # إ
    "\u0671": "\u0627",  # ٱ
    "\u0672": "\u0627",
    "\u0673": "\u0627",
    "\u0649": "\u064a",  # ى -> ي
    "\u0629": "\u0647",  # ة -> ه
    "\u06a9": "\u0643",  # ک -> ك
    "\u06aa": "\u0643",
    "\u06cc": "\u064a",  # ی -> ي
    "\u06d2": "\u064a",
    "\u06c1": "\u0647",  # ہ -> ه
    "\u06d5": "\u0647",
    "\u0624": "\u0648",  # ؤ -> و
    "\u0626": "\u064a",  # ئ -> ي
}
_ARABIC.update({chr(0x0660 + d): str(d) for d in range(10)})
_ARABIC.update({chr(0x06F0 + d): str(d) for d in range(10)})

_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}


def _is_ignorable(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _IGNORABLE_RANGES)


@cache
def _confusables() -> dict[str, str]:
    path = resources.files("vigil").joinpath("data/text/confusables.json")
    table: dict[str, str] = json.loads(path.read_text("utf-8"))
    return table


@cache
def fold_char(ch: str) -> str:
    """The script-independent fold of one character (steps 1-3)."""
    cp = ord(ch)
    if cp < 0x80:
        return ch.lower()
    if _is_ignorable(cp):
        return ""
    if ch in _ARABIC:
        return _ARABIC[ch]
    out = []
    for part in unicodedata.normalize("NFKD", ch):
        cat = unicodedata.category(part)
        if cat in ("Mn", "Me", "Cf") or _is_ignorable(ord(part)):
            continue
        out.append(_ARABIC.get(part, part))
    return "".join(out).casefold()


@cache
def script_of(ch: str) -> str:
    """A coarse script name for a letter (LATIN, CYRILLIC, GREEK, ARABIC, ...); "" for a non-letter."""
    if ch.isascii():
        return "LATIN" if ch.isalpha() else ""
    if not ch.isalpha():
        return ""
    name = unicodedata.name(ch, "")
    if name.startswith(("MATHEMATICAL", "FULLWIDTH", "DOUBLE-STRUCK", "SCRIPT", "BLACK-LETTER")):
        return "LATIN"
    first = name.split(" ", 1)[0]
    return first or "OTHER"


@cache
def skeleton_char(ch: str) -> str:
    """The ASCII confusable of a folded non-Latin letter, or the letter itself."""
    if ch.isascii() or script_of(ch) == "ARABIC":
        return ch
    return _confusables().get(ch, ch)


class _FoldTable(dict[int, str]):
    """``str.translate`` table that folds each character on first sight (C-speed afterwards)."""

    def __init__(self) -> None:
        super().__init__()
        self.resized: set[str] = set()
        self.pattern: re.Pattern[str] | None = None

    def __missing__(self, cp: int) -> str:
        folded = fold_char(chr(cp))
        if len(folded) != 1:
            self.resized.add(chr(cp))
            self.pattern = re.compile("[" + "".join(re.escape(c) for c in sorted(self.resized)) + "]")
        self[cp] = folded
        return folded


_WORD_CHAR = r"(?:[^\W_]|[@$])"
_CANDIDATE = r"(?:[^\W_\x00-\x7f\u0621-\u064a]|[013457@$])"
_CANDIDATE_WORD = re.compile(rf"(?<!{_WORD_CHAR})(?={_WORD_CHAR}*{_CANDIDATE}){_WORD_CHAR}+")
_ASCII_LETTER = re.compile(r"[a-z]")
_ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")
_OTHER_LETTER = re.compile(r"[^\W\d_a-z\u0621-\u064a]")
_FLOOD = re.compile(r"(.)\1{2,}", re.DOTALL)


@dataclass(slots=True)
class Normalised:
    raw: str
    text: str
    offsets: list[int]
    mixed_script: bool = False

    @property
    def script(self) -> str:
        """The dominant script: LATIN, ARABIC, OTHER or "" (no letters)."""
        return Normaliser._dominant(self.text)

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """The raw-text span covering normalised characters ``start:end``."""
        if not self.offsets or end <= start:
            return (0, 0)
        end = min(end, len(self.offsets))
        return (self.offsets[start], self.offsets[end - 1] + 1)


class Normaliser:
    """Holds the fold cache; one per process is enough (see :func:`normalise`)."""

    def __init__(self) -> None:
        self.table = _FoldTable()

    def _fold(self, raw: str) -> tuple[str, list[int]]:
        text = raw.translate(self.table)
        pattern = self.table.pattern
        if len(text) == len(raw) and (pattern is None or pattern.search(raw) is None):
            return text, list(range(len(text)))
        offs: list[int] = []
        for i, ch in enumerate(raw):
            offs.extend([i] * len(self.table[ord(ch)]))
        return text, offs

    @staticmethod
    def _dominant(text: str) -> str:
        latin = len(_ASCII_LETTER.findall(text))
        arabic = len(_ARABIC_LETTER.findall(text))
        other = len(_OTHER_LETTER.findall(text))
        if latin and latin >= arabic and latin >= other:
            return "LATIN"
        if arabic and arabic >= other:
            return "ARABIC"
        return "OTHER" if other else ""

    def _words(self, text: str) -> tuple[str, bool]:
        mixed = False
        dominant = ""

        def fix(match: re.Match[str]) -> str:
            nonlocal mixed, dominant
            if not dominant:
                dominant = self._dominant(text) or "NONE"
            word = match.group(0)
            scripts = {script_of(c) for c in word} - {""}
            if len(scripts) > 1:
                mixed = True
            if (dominant == "LATIN" or len(scripts) > 1) and not word.isascii():
                word = "".join(skeleton_char(c) for c in word)
            if word.isascii() and any(c.isalpha() for c in word):
                head = word[0] if word[0] in "@$" else ""
                word = head + "".join(_LEET.get(c, c) for c in word[len(head) :])
            return word

        text = _CANDIDATE_WORD.sub(fix, text)
        return text, mixed

    @staticmethod
    def _collapse(text: str, offs: list[int]) -> tuple[str, list[int]]:
        if _FLOOD.search(text) is None:
            return text, offs
        out: list[int] = []
        last = 0
        for m in _FLOOD.finditer(text):
            out.extend(offs[last : m.start() + 1])
            last = m.end()
        out.extend(offs[last:])
        return _FLOOD.sub(r"\1", text), out

    def __call__(self, raw: str) -> Normalised:
        text, offs = self._fold(raw)
        text, mixed = self._words(text)
        text, offs = self._collapse(text, offs)
        return Normalised(raw, text, offs, mixed)


@cache
def default_normaliser() -> Normaliser:
    return Normaliser()


def normalise(raw: str) -> Normalised:
    """Fold ``raw`` against evasion; see the module docstring for the steps."""
    return default_normaliser()(raw)


def normalise_text(raw: str) -> str:
    """Just the normalised text."""
    return default_normaliser()(raw).text
