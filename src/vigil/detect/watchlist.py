"""A watch-list detector driven by a user-editable file of terms (one per line, ``#`` for comments).

A line may carry a weight after a tab: ``term<TAB>0.8``. Matching is case-insensitive, on word boundaries,
and every reason carries the span in the original text.
"""

from __future__ import annotations

import re
from pathlib import Path

from vigil.core.model import Item, Reason, Signal
from vigil.detect.context import DetectorContext
from vigil.errors import ConfigError


def parse_watchlist(text: str, where: str = "watchlist") -> dict[str, float]:
    terms: dict[str, float] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        term, _, weight = line.partition("\t")
        try:
            value = float(weight) if weight.strip() else 1.0
        except ValueError as exc:
            raise ConfigError(f"{where}:{number}: weight {weight!r} is not a number") from exc
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"{where}:{number}: weight must be between 0 and 1")
        terms[term.strip().casefold()] = value
    return terms


class WatchlistDetector:
    name = "watchlist"
    version = "1"
    threshold = 0.5

    def __init__(self, ctx: DetectorContext | None = None, terms: dict[str, float] | None = None) -> None:
        if terms is None:
            path = ctx.config.resolved_watchlist if ctx else None
            terms = self._load(path) if path else {}
        self.terms = terms
        self.pattern = (
            re.compile(
                r"(?<!\w)("
                + "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
                + r")(?!\w)",
                re.IGNORECASE,
            )
            if terms
            else None
        )

    @staticmethod
    def _load(path: Path) -> dict[str, float]:
        if not path.exists():
            return {}
        try:
            return parse_watchlist(path.read_text("utf-8"), str(path))
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not valid UTF-8") from exc

    def detect(self, items: list[Item]) -> list[Signal]:
        if self.pattern is None:
            return []
        out = []
        for item in items:
            reasons = [
                Reason(
                    f"watch-list term {m.group(0)!r}",
                    m.start(),
                    m.end(),
                    self.terms.get(m.group(0).casefold(), 1.0),
                )
                for m in self.pattern.finditer(item.text)
            ]
            if reasons:
                score = max(r.weight for r in reasons)
                out.append(Signal(item.id, self.name, score, self.threshold, reasons[:20], self.version))
        return out
