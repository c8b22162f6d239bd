"""The detection pipeline: new items -> detectors -> stored signals -> a case for each item over threshold."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from vigil.core.detector import Detector
from vigil.core.model import Case, Item, Signal
from vigil.store import Store

log = logging.getLogger(__name__)


@dataclass(slots=True)
class BatchResult:
    new_items: int = 0
    detections: int = 0
    cases: int = 0


class BatchProcessor(Protocol):
    """What takes a batch of new items: the Pipeline itself, or a queue in front of it."""

    def process(self, batch: Sequence[Item]) -> BatchResult: ...


# Called with the new items of a batch once they, their signals and cases are stored (e.g. the graph).
AfterStore = Callable[[Sequence[Item]], object]
HOOKS_GROUP = "vigil.after_store"


def registered_hooks(store: Store) -> list[AfterStore]:
    """The hooks installed packages register under ``vigil.after_store``: each entry point is a factory
    called with the store, returning the hook (or None to stay out)."""
    from vigil.core.registry import plugins

    made = (factory(store) for _, factory in sorted(plugins(HOOKS_GROUP).items()))
    return [hook for hook in made if hook is not None]


class Pipeline:
    def __init__(
        self, store: Store, detectors: Sequence[Detector], hooks: Sequence[AfterStore] | None = None
    ) -> None:
        """``hooks`` run after each batch is stored: the registered ones by default, ``[]`` for none."""
        self.store = store
        self.detectors = list(detectors)
        self.hooks = registered_hooks(store) if hooks is None else list(hooks)

    def detect(self, batch: Sequence[Item]) -> list[Signal]:
        found: list[Signal] = []
        for detector in self.detectors:
            found.extend(detector.detect(list(batch)))
        return found

    def process(self, batch: Sequence[Item]) -> BatchResult:
        """Store a batch; run the detectors on the items that are new; open cases for hits."""
        new_ids = set(self.store.add_items(batch))
        fresh = [item for item in batch if item.id in new_ids]
        # An id can repeat within a batch; only its first occurrence is new.
        seen: set[str] = set()
        fresh = [item for item in fresh if not (item.id in seen or seen.add(item.id))]  # type: ignore[func-returns-value]
        result = BatchResult(new_items=len(fresh))
        if not fresh:
            return result
        found = self.detect(fresh)
        self.store.add_signals(found)
        hits = [s for s in found if s.hit]
        result.detections = len(hits)
        result.cases = len(self.store.open_cases(cases_for(hits)))
        for hook in self.hooks:
            hook(fresh)
        return result


def cases_for(hits: Sequence[Signal]) -> list[Case]:
    """One case per item, scored by its strongest hit, with every hit's reasons on record."""
    by_item: dict[str, list[Signal]] = {}
    for signal in hits:
        by_item.setdefault(signal.item_id, []).append(signal)
    out = []
    for item_id, item_hits in by_item.items():
        best = max(item_hits, key=lambda s: s.score)
        reasons = [r.text for s in item_hits for r in s.reasons][:10]
        title = f"{best.detector}: {reasons[0]}" if reasons else best.detector
        out.append(
            Case(
                id=None,
                item_id=item_id,
                score=best.score,
                title=title[:300],
                meta={"detectors": sorted({s.detector for s in item_hits}), "reasons": reasons},
            )
        )
    return out
