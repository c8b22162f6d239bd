"""How a re-check recognises a captured item on a page: a normalised excerpt of the captured main text
(the marker, kept with the capture) and whether a page still shows most of it."""

from __future__ import annotations

import re

MARKER_CHARS = 400
SHOWN_SHARE = 0.5


def marker_of(text: str) -> str:
    """A normalised excerpt of the captured main text: how a re-check recognises the item on the page."""
    return " ".join(re.sub(r"\W+", " ", text.lower()).split())[:MARKER_CHARS]


def _shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    words = text.split()
    return {tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1))} if words else set()


def shows_marker(marker: str, page_text: str) -> bool:
    """Whether the page still shows the item: most of the marker's word triples are on the page."""
    wanted = _shingles(marker)
    if not wanted:
        return True
    found = _shingles(marker_of_full(page_text))
    return len(wanted & found) / len(wanted) >= SHOWN_SHARE


def marker_of_full(text: str) -> str:
    return " ".join(re.sub(r"\W+", " ", text.lower()).split())
