"""The detection pipeline: items -> store -> detectors -> signals and cases, committed together.

``Pipeline.process`` is idempotent: it stores the batch's new items, then scores every item of the batch
that is stored without a stored detection (the new ones, and any that an earlier run stored but died
before scoring), and stores their signals, their cases and the mark that they are scored in ONE
transaction. The after-store hooks (the graph) are then given every item of the batch, scored now or
before: a hook is idempotent (the graph skips what it has), so an item whose run died between the
detection's commit and the hook is folded in by the rescan. A rescan after a crash at any point, or a
queue message delivered twice, gives exactly the items, signals, cases and graph of an uninterrupted run
(``tests/test_scan_kill.py`` kills scans at random points to check it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from vigil.core.detector import Detector
from vigil.core.model import Case, Item, Signal
from vigil.core.ports import ItemStore
from vigil.core.registry import AFTER_STORE, named
from vigil.ingest.faults import checkpoint

log = logging.getLogger(__name__)


@dataclass(slots=True)
class BatchResult:
    new_items: int = 0
    detections: int = 0
    cases: int = 0


class BatchProcessor(Protocol):
    """What takes a batch of items: the Pipeline itself, or a queue in front of it."""

    def process(self, batch: Sequence[Item]) -> BatchResult: ...


# Called with the items of a batch once their signals and cases are stored (e.g. the graph): every item of
# the batch, including those stored and scored by an earlier run, so a hook must skip what it has done.
AfterStore = Callable[[Sequence[Item]], object]


def registered_hooks(store: ItemStore) -> list[AfterStore]:
    """The hooks installed packages register under ``vigil.after_store``: each entry point is a factory
    called with the store, returning the hook (or None to stay out)."""
    made = (factory(store) for factory in named(AFTER_STORE))
    return [hook for hook in made if hook is not None]


class Pipeline:
    def __init__(
        self, store: ItemStore, detectors: Sequence[Detector], hooks: Sequence[AfterStore] | None = None
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
        """Store a batch; score the items stored without a detection; open cases for hits."""
        first: dict[str, Item] = {}
        for item in batch:  # an id can repeat within a batch; its first occurrence counts
            first.setdefault(item.id, item)
        unique = list(first.values())
        new_ids = set(self.store.add_items(unique))
        checkpoint("items-stored")
        result = BatchResult(new_items=sum(1 for item in unique if item.id in new_ids))
        pending = self.store.undetected([item.id for item in unique])
        todo = [item for item in unique if item.id in pending]
        if todo:
            found = self.detect(todo)
            checkpoint("detected")
            hits = [s for s in found if s.hit]
            result.detections = len(hits)
            langs = {
                s.item_id: str(s.meta["lang"])
                for s in found
                if s.meta.get("detected_lang") and s.meta.get("lang")
            }
            result.cases = len(
                self.store.record_detections([i.id for i in todo], found, cases_for(hits), langs=langs)
            )
            checkpoint("detections-recorded")
        for hook in self.hooks:
            hook(unique)  # all of the batch: a run may have died after recording and before this hook
            checkpoint("hook-done")
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
