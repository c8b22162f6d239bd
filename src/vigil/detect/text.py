"""The text classifier and outlet attribution as scan detectors (entry points ``text`` and ``outlets``)."""

from __future__ import annotations

from functools import cached_property

from vigil.core.model import Item, Reason, Signal
from vigil.detect.context import DetectorContext
from vigil.text.bank import default_bank
from vigil.text.model import TextModel
from vigil.text.normalise import normalise
from vigil.text.outlets import OutletMatcher, load_registry


def _reasons(raw: list[dict[str, object]]) -> list[Reason]:
    out = []
    for r in raw:
        start, end, weight = r.get("start"), r.get("end"), r.get("weight", 0.0)
        out.append(
            Reason(
                str(r["text"]),
                start if isinstance(start, int) else None,
                end if isinstance(end, int) else None,
                float(weight) if isinstance(weight, (int, float)) else 0.0,
            )
        )
    return out


#: What language id says when it cannot tell: not stored on the item.
UNKNOWN = frozenset({"", "und", "unknown"})


class TextClassifierDetector:
    """The shipped first-stage model; a signal for every item with text, a hit at the model's threshold."""

    name = "text"

    def __init__(self, ctx: DetectorContext | None = None) -> None:
        #: The second stage, the same bank ``vigil classify`` uses by default ($VIGIL_HOME/textbank.jsonl).
        self.bank = default_bank(ctx.config.home) if ctx else None

    @cached_property
    def model(self) -> TextModel:
        return TextModel.load()

    @property
    def version(self) -> str:
        return f"first_stage-{self.model.version}"

    def detect(self, items: list[Item]) -> list[Signal]:
        with_text = [i for i in items if i.text and i.text.strip()]
        if not with_text:
            return []
        verdicts = self.model.classify([i.text for i in with_text], None, self.bank)
        return [
            Signal(
                item.id,
                self.name,
                v.score,
                self.model.threshold,
                _reasons(v.reasons),
                self.version,
                # ``detected_lang``: the pipeline stores ``lang`` on the item when it has none.
                {
                    "lang": v.lang,
                    "lang_confidence": v.lang_confidence,
                    "detected_lang": v.lang not in UNKNOWN,
                },
            )
            for item, v in zip(with_text, verdicts, strict=True)
        ]


class OutletDetector:
    """Names and aliases of known outlets; the score is the attribution confidence (a hit at 0.8)."""

    name = "outlets"
    version = "1"
    threshold = 0.8

    def __init__(self, ctx: DetectorContext | None = None) -> None:
        self.matcher = OutletMatcher(load_registry(ctx.config.home if ctx else None))

    def detect(self, items: list[Item]) -> list[Signal]:
        out = []
        for item in items:
            if not item.text:
                continue
            found = self.matcher.match(normalise(item.text))
            if not found:
                continue
            best = found[0]
            reasons = [
                Reason(
                    f"outlet {o['name']} ({o['tier']}): alias {m['alias']!r}",
                    m["start"],
                    m["end"],
                    o["confidence"],
                )
                for o in found
                for m in o["matches"]
            ][:20]
            out.append(
                Signal(
                    item.id,
                    self.name,
                    best["confidence"],
                    self.threshold,
                    reasons,
                    self.version,
                    {"outlets": found},
                )
            )
        return out
