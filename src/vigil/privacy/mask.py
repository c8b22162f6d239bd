"""Masking of identifiers found inside content text (handles, e-mail addresses, phone numbers, profile
links) for list views.

Offsets are preserved: every masked character is replaced by exactly one character, so ``len`` is kept
and any span computed on the raw text (a detector's ``Reason.start``/``end``) still points at the same
place. Structure stays readable: the ``@`` of a handle or an address and the host of a profile link are
kept, everything that names the person becomes ``*``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MASK = "*"

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}"
)
_HANDLE = re.compile(r"(?<![\w@/.])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,62}[A-Za-z0-9_])?")
_PROFILE = re.compile(
    r"(?i)\b(?:https?://)?(?:www\.|m\.|mobile\.)?"
    r"(?:t\.me|telegram\.me|x\.com|twitter\.com|facebook\.com|instagram\.com|tiktok\.com|youtube\.com"
    r"|vk\.com|threads\.net|gab\.com|truthsocial\.com|rumble\.com)/@?([A-Za-z0-9_.-]{2,64})"
)
_PROFILE_HOSTS = (
    "t.me/",
    "telegram.me/",
    "x.com/",
    "twitter.com/",
    "facebook.com/",
    "instagram.com/",
    "tiktok.com/",
    "youtube.com/",
    "vk.com/",
    "threads.net/",
    "gab.com/",
    "truthsocial.com/",
    "rumble.com/",
)
_PHONE = re.compile(r"(?<![\w+\-./])(?:\+\d[\d\s().-]{6,20}\d|0\d(?:[\s.-]?\d){7,13})(?![\w])")
_PHONE_DIGITS = (8, 15)


@dataclass(frozen=True, slots=True)
class Found:
    kind: str  # email | handle | profile | phone
    start: int
    end: int


def find_identifiers(text: str) -> list[Found]:
    """Non-overlapping identifier spans, in order. E-mails win over handles inside them."""
    found: list[Found] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, start: int, end: int) -> None:
        if start < end and all(end <= s or start >= e for s, e in taken):
            taken.append((start, end))
            found.append(Found(kind, start, end))

    has_at = "@" in text
    for m in _EMAIL.finditer(text) if has_at else ():
        add("email", m.start(), m.end())
    lowered = text.lower() if "/" in text else ""
    for m in _PROFILE.finditer(text) if any(h in lowered for h in _PROFILE_HOSTS) else ():
        add("profile", m.start(1), m.end(1))
    for m in _HANDLE.finditer(text) if has_at else ():
        add("handle", m.start() + 1, m.end())
    for m in _PHONE.finditer(text) if any(c.isdigit() for c in text) else ():
        end = _phone_end(text, m.start(), m.end())
        if end:
            add("phone", m.start(), end)
    return sorted(found, key=lambda f: f.start)


def mask_identifiers(text: str) -> str:
    """``text`` with every identifier masked; same length, same offsets."""
    if not text:
        return text
    chars = list(text)
    for f in find_identifiers(text):
        for i in range(f.start, f.end):
            if f.kind == "email" and chars[i] in "@.":
                continue
            if f.kind == "phone" and not chars[i].isdigit():
                continue
            chars[i] = MASK
    return "".join(chars)


def mask_value(value: Any) -> Any:
    """``value`` (a JSON-like structure: an audit entry's details, a history line's meta) with
    ``mask_identifiers`` applied to every string in it, dict values and list items included; keys, numbers
    and the structure stay as they are. Free text goes under many keys (reason, note, reason_text,
    clarification, ...), so every string is masked rather than a list of keys that a new feature would
    have to extend."""
    if isinstance(value, str):
        return mask_identifiers(value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v) for v in value]
    return value


def _phone_end(text: str, start: int, end: int) -> int:
    """Where a phone number that the pattern over-reached ends: whole digit groups are dropped from the
    right until it has at most 15 digits (e.g. a date written after it). 0 if it has fewer than 8."""
    while True:
        digits = sum(c.isdigit() for c in text[start:end])
        if digits <= _PHONE_DIGITS[1]:
            return end if digits >= _PHONE_DIGITS[0] else 0
        cut = end - 1
        while cut > start and text[cut].isdigit():
            cut -= 1
        while cut > start and not text[cut].isdigit():
            cut -= 1
        if cut <= start:
            return 0
        end = cut + 1
