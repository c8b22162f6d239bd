"""The hash-bank detector: hashes every media file an item carries (from the content-addressed media
store) and matches it against the enabled banks of the pipeline's store. A match is a hit whose signal
names the bank, the entry, the distance and the entry's metadata; a negative-bank match suppresses it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from vigil.core.model import Item, Reason, Signal
from vigil.detect.context import DetectorContext

log = logging.getLogger(__name__)


class HashMatchDetector:
    name = "hashmatch"
    version = "1"
    threshold = 0.5
    #: Reads the banks from the pipeline's store and the media files on this machine.
    local_only = True

    def __init__(self, ctx: DetectorContext) -> None:
        self.ctx = ctx
        self.media = ctx.media

    def detect(self, items: list[Item]) -> list[Signal]:
        with_media = [item for item in items if item.media]
        store = self.ctx.store
        if not with_media or store is None:
            return []
        from vigil.banks.flood import record_item_matches
        from vigil.banks.matcher import Matcher
        from vigil.banks.service import BankService

        service = BankService(store, self.ctx.config)
        if not any(b.entries for b in service.list_banks() if b.enabled):
            return []
        matcher = Matcher(service)
        out = []
        for item in with_media:
            signal = self._detect_one(item, matcher)
            if signal is not None:
                out.append(signal)
        # Each (entry, item) counted once, however often the item is scored (a rescan after a kill).
        matched = [(m["entry_id"], s.item_id) for s in out if s.hit for m in s.meta["matches"]]
        record_item_matches(service, matched)
        return out

    def _detect_one(self, item: Item, matcher: Any) -> Signal | None:
        from vigil.hashing.files import hash_file

        found: list[dict[str, Any]] = []
        suppressed: list[dict[str, Any]] = []
        for media in item.media:
            path: Path = self.media.path_for(media.sha256)
            if not path.is_file():
                continue
            try:
                record = hash_file(path)
            except OSError as exc:
                log.warning("cannot read media %s: %s", media.sha256, exc)
                continue
            result = matcher.match_record(record)
            for m in result.matches:
                found.append({**m.to_dict(), "media": media.sha256})
            for m in result.suppressed + result.negative:
                suppressed.append({**m.to_dict(), "media": media.sha256, "negative": m.negative})
        if not found and not suppressed:
            return None
        reasons = [
            Reason(
                f"hash match: bank {m['bank']} entry {m['entry_id']} ({m['signal_type']}, "
                f"distance {m['distance']})",
                weight=1.0,
            )
            for m in found[:20]
        ]
        if not found:
            reasons = [Reason("hash match suppressed by a negative bank", weight=0.0)]
        meta = {"matches": found, "suppressed": suppressed}
        return Signal(item.id, self.name, 1.0 if found else 0.0, self.threshold, reasons, self.version, meta)
