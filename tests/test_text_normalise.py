"""Normalisation against evasion: properties (obfuscation does not change the normalised form) and offsets."""

from __future__ import annotations

import json
import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.text.normalise import normalise, normalise_text
from vigil.text.obfuscate import obfuscate

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "text"

latin_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
arabic_word = st.text(alphabet="ابتثجحخدذرسشصضطظعغفقكلمنهوي", min_size=1, max_size=10)


@settings(max_examples=150, deadline=None)
@given(st.lists(latin_word, min_size=1, max_size=12), st.integers(0, 2**32 - 1))
def test_obfuscated_latin_text_normalises_to_the_same_form(words: list[str], seed: int) -> None:
    text = " ".join(words)
    assert normalise_text(obfuscate(text, random.Random(seed), rate=0.5)) == normalise_text(text)


@settings(max_examples=150, deadline=None)
@given(st.lists(arabic_word, min_size=1, max_size=12), st.integers(0, 2**32 - 1))
def test_obfuscated_arabic_text_normalises_to_the_same_form(words: list[str], seed: int) -> None:
    text = " ".join(words)
    assert normalise_text(obfuscate(text, random.Random(seed), rate=0.6)) == normalise_text(text)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_any_text_normalises_and_offsets_point_into_the_raw_text(text: str) -> None:
    n = normalise(text)
    assert len(n.offsets) == len(n.text)
    assert all(0 <= o < len(text) for o in n.offsets)
    assert n.offsets == sorted(n.offsets)
    assert normalise_text(n.text) == normalise_text(normalise_text(n.text))  # idempotent after one pass


def test_each_evasion_is_undone() -> None:
    assert normalise_text("Ｈｅｌｌｏ") == "hello"  # fullwidth (NFKC)
    assert normalise_text("he\u200bl\u200dlo") == "hello"  # zero-width
    assert normalise_text("hеllо") == "hello"  # Cyrillic е and о
    assert normalise_text("h3ll0 w0rld") == "hello world"  # leetspeak
    assert normalise_text("hellooooo") == "hello"  # flood
    assert normalise_text("café") == "cafe"  # accents
    assert (
        normalise_text("الدَّوْلَـــة") == normalise_text("الدولة") == "الدوله"
    )  # diacritics, tatweel, ta marbuta
    assert normalise_text("أحمد إبراهيم آمن") == "احمد ابراهيم امن"  # alef forms
    assert normalise_text("على") == "علي"  # alef maqsura
    assert normalise_text("2015 and 100") == "2015 and 100"  # numbers alone are not leetspeak


def test_mixed_script_is_flagged_but_plain_scripts_are_not() -> None:
    assert normalise("pаypal").mixed_script  # Cyrillic а inside a Latin word
    assert not normalise("paypal").mixed_script
    assert not normalise("Привет мир").mixed_script
    assert normalise_text("Привет мир") == "привет мир"  # a Cyrillic text is left in Cyrillic


def test_raw_span_maps_back_through_removed_and_collapsed_characters() -> None:
    raw = "x \u200bA\u200bm\u0640aaaaq y"
    n = normalise(raw)
    start = n.text.index("amaq")
    s, e = n.raw_span(start, start + 4)
    assert raw[s:e].replace("\u200b", "").replace("\u0640", "").lower().startswith("am")
    assert raw[e - 1] == "q"


def test_real_posts_keep_their_normal_form_when_obfuscated() -> None:
    with (DATA / "isextreme_validation.jsonl").open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh][:300]
    rng = random.Random(7)
    same = sum(normalise_text(obfuscate(r["text"], rng)) == normalise_text(r["text"]) for r in rows)
    assert same >= 0.9 * len(rows)
