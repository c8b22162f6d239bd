"""Masking identifiers inside content text: same length, same offsets, nothing of the identifier left."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.privacy.mask import MASK, find_identifiers, mask_identifiers

WORDS = st.sampled_from(
    ["the", "meeting", "is", "at", "noon", "نص", "текст", "2026-01-01", "page 12", "v1.2"]
)
HANDLE = st.from_regex(r"@[A-Za-z][A-Za-z0-9_]{3,14}", fullmatch=True)
EMAIL = st.from_regex(r"[a-z]{2,8}\.[a-z]{2,8}@example\.(org|net)", fullmatch=True)
PHONE = st.from_regex(r"\+(33|44|49) [1-9]\d \d{4} \d{4}", fullmatch=True)
PROFILE = st.from_regex(r"https://(t\.me|x\.com)/[a-z][a-z0-9_]{4,14}", fullmatch=True)


def test_examples() -> None:
    text = "write to ann.lee@example.org or @ann_lee, call +44 20 7946 0991, see t.me/ann_channel today"
    masked = mask_identifiers(text)
    assert len(masked) == len(text)
    assert "ann" not in masked and "7946" not in masked
    assert masked.startswith("write to ***.***@*******.*** or @*******, call +** ** **** ****, see t.me/")
    assert masked.endswith(" today")
    assert [f.kind for f in find_identifiers(text)] == ["email", "handle", "phone", "profile"]


def test_dates_versions_and_plain_text_are_left_alone() -> None:
    for text in ("on 2026-01-01 at 10:30", "version 1.2.3", "price 12 500", "a @ b", "x@y", "mail@host"):
        assert mask_identifiers(text) == text


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_text_keeps_length_and_only_masks(text: str) -> None:
    masked = mask_identifiers(text)
    assert len(masked) == len(text)
    for a, b in zip(text, masked, strict=True):
        assert a == b or b == MASK


@given(st.lists(st.one_of(WORDS, HANDLE, EMAIL, PHONE, PROFILE), min_size=1, max_size=12))
@settings(max_examples=100, deadline=None)
def test_identifiers_in_text_are_gone_and_offsets_kept(parts: list[str]) -> None:
    text = " ".join(parts)
    masked = mask_identifiers(text)
    assert len(masked) == len(text)
    offset = 0
    for part in parts:
        piece = masked[offset : offset + len(part)]
        if part.startswith("@"):
            assert piece == "@" + MASK * (len(part) - 1)
        elif "@" in part:
            assert piece.replace("@", "").replace(".", "").strip(MASK) == ""
        elif part.startswith("+"):
            assert not any(c.isdigit() for c in piece)
        elif part.startswith("https://"):
            name = part.rsplit("/", 1)[1]
            assert piece.endswith("/" + MASK * len(name))
        else:
            assert piece == part  # neutral words are untouched
        offset += len(part) + 1
    assert mask_identifiers(masked) == masked  # idempotent
