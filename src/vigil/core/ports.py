"""What the ingestion pipeline needs from a store, as a protocol, so that the core and the pipeline do not
depend on the store's implementation (``vigil.store.Store`` is the one there is)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from vigil.core.model import Case, Item, Quarantined, Signal


class ItemStore(Protocol):
    def add_items(self, batch: Sequence[Item]) -> list[str]:
        """Store the items not seen before (by id); return the ids that were new."""
        ...

    def undetected(self, item_ids: Sequence[str]) -> set[str]:
        """Of ``item_ids``, the stored ones whose detection is not stored yet."""
        ...

    def record_detections(
        self,
        item_ids: Sequence[str],
        found: Sequence[Signal],
        new_cases: Sequence[Case],
        actor: str = ...,
        langs: Mapping[str, str] | None = None,
    ) -> list[int]:
        """In one transaction: signals, cases (one per item), the language detection found for items
        stored without one, and the mark that ``item_ids`` are detected. Returns the ids of the cases
        opened now."""
        ...

    def add_quarantined(self, records: Sequence[Quarantined]) -> int:
        """Keep bad records with their reason; return how many were new."""
        ...
