"""Matching hashes and files against banks.

PDQ (and vPDQ frames) go through each bank's exact index at the bank's own threshold, TLSH through its
exact index at ``TLSH_THRESHOLD``; MD5 and SHA-256 are exact look-ups; Chromaprint compares against every
entry of that type (linear). A match in an
enabled *negative* bank suppresses the item's positive matches: they are reported as ``suppressed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from vigil.banks.model import Bank
from vigil.banks.pdqindex import hex_to_words
from vigil.banks.service import BankService
from vigil.banks.tables import bank_entries
from vigil.banks.tlshindex import digest_rows

TLSH_THRESHOLD = 40  # TLSH diff: lower is closer; about 40 is a near-duplicate
AUDIO_SIMILARITY = 0.8  # Chromaprint bit agreement at the best alignment
VIDEO_FRAME_SHARE = 0.5  # share of a video's sampled frames that must match one entry


@dataclass(slots=True)
class Match:
    bank: str
    entry_id: int
    distance: float
    signal_type: str
    negative: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bank": self.bank,
            "entry_id": self.entry_id,
            "distance": self.distance,
            "signal_type": self.signal_type,
            "meta": self.meta,
        }


@dataclass(slots=True)
class MatchResult:
    matches: list[Match] = field(default_factory=list)
    suppressed: list[Match] = field(default_factory=list)
    negative: list[Match] = field(default_factory=list)


class Matcher:
    def __init__(self, service: BankService, bank_names: Sequence[str] | None = None) -> None:
        self.service = service
        chosen = [service.get(n) for n in bank_names] if bank_names else service.list_banks()
        # Named banks are searched even when disabled (the user asked); otherwise only enabled ones.
        self.banks: list[Bank] = chosen if bank_names else [b for b in chosen if b.enabled]
        self._indexes: dict[tuple[int, str], Any] = {}

    def _index(self, bank: Bank, stype: str) -> Any:
        key = (bank.id, stype)
        if key not in self._indexes:
            self._indexes[key] = self.service.index(bank, stype)
        return self._indexes[key]

    # ---- PDQ ----------------------------------------------------------------------------------------

    def pdq_raw(self, hexes: Sequence[str], stype: str = "pdq") -> list[list[Match]]:
        """For each query hash, its matches in every bank (no metadata, no suppression yet)."""
        out: list[list[Match]] = [[] for _ in hexes]
        if not hexes:
            return out
        words = hex_to_words(list(hexes))
        for bank in self.banks:
            idx = self._index(bank, stype)
            if not len(idx):
                continue
            q, ids, dist = idx.search(words, bank.threshold)
            for qi, entry_id, d in zip(q.tolist(), ids.tolist(), dist.tolist(), strict=True):
                out[qi].append(Match(bank.name, entry_id, d, stype, bank.negative))
        return out

    def match_pdq(self, hexes: Sequence[str]) -> list[MatchResult]:
        raw = self.pdq_raw(hexes)
        self._attach_meta([m for ms in raw for m in ms])
        return [split(ms) for ms in raw]

    def match_dihedral(self, variants: Sequence[str]) -> list[Match]:
        """Matches of any of an image's dihedral variants: the nearest per entry."""
        best: dict[tuple[str, int], Match] = {}
        for ms in self.pdq_raw(variants):
            for m in ms:
                key = (m.bank, m.entry_id)
                if key not in best or m.distance < best[key].distance:
                    best[key] = m
        return list(best.values())

    def match_video(self, frames: Sequence[str]) -> list[Match]:
        """Entries that share at least ``VIDEO_FRAME_SHARE`` of the query's distinct frame hashes."""
        unique = list(dict.fromkeys(frames))
        if not unique:
            return []
        hits: dict[tuple[str, int], list[float]] = {}
        negative: dict[str, bool] = {}
        for ms in self.pdq_raw(unique, "vpdq"):
            for m in ms:
                hits.setdefault((m.bank, m.entry_id), []).append(m.distance)
                negative[m.bank] = m.negative
        out = []
        for (bank, entry_id), dists in hits.items():
            share = len(dists) / len(unique)
            if share >= VIDEO_FRAME_SHARE:
                out.append(
                    Match(
                        bank,
                        entry_id,
                        float(np.mean(dists)),
                        "vpdq",
                        negative[bank],
                        {"frame_share": round(share, 3)},
                    )
                )
        return out

    # ---- exact and similarity types -----------------------------------------------------------------

    def _entries_of(self, stype: str, value: str | None = None) -> list[tuple[Bank, int, str]]:
        ids = {b.id: b for b in self.banks}
        query = select(bank_entries.c.bank_id, bank_entries.c.id, bank_entries.c.value).where(
            bank_entries.c.signal_type == stype,
            bank_entries.c.bank_id.in_(list(ids)),
            bank_entries.c.enabled.is_(True),
            bank_entries.c.quarantined.is_(False),
        )
        if value is not None:
            query = query.where(bank_entries.c.value == value)
        with self.service.store.read() as conn:
            return [(ids[b], i, v) for b, i, v in conn.execute(query)]

    def match_exact(self, stype: str, value: str) -> list[Match]:
        return [Match(b.name, i, 0, stype, b.negative) for b, i, _ in self._entries_of(stype, value)]

    def match_tlsh(self, digest: str) -> list[Match]:
        """Entries within ``TLSH_THRESHOLD`` (``tlsh.diff``) of ``digest``; ValueError if it is not one."""
        query = digest_rows([digest])
        out = []
        for bank in self.banks:
            idx = self._index(bank, "tlsh")
            if not len(idx):
                continue
            _, ids, dist = idx.search(query, TLSH_THRESHOLD)
            for entry_id, d in zip(ids.tolist(), dist.tolist(), strict=True):
                out.append(Match(bank.name, entry_id, d, "tlsh", bank.negative))
        return out

    def match_audio(self, fingerprint: str) -> list[Match]:
        from vigil.hashing.audio import decode, similarity

        query = decode(fingerprint)
        out = []
        for bank, entry_id, value in self._entries_of("chromaprint"):
            sim = similarity(query, decode(value))
            if sim >= AUDIO_SIMILARITY:
                out.append(Match(bank.name, entry_id, round(1.0 - sim, 4), "chromaprint", bank.negative))
        return out

    # ---- files --------------------------------------------------------------------------------------

    def match_record(self, record: dict[str, Any]) -> MatchResult:
        """Every match of a ``hash_file`` record."""
        found: list[Match] = []
        found += self.match_exact("sha256", record["sha256"])
        found += self.match_exact("md5", record["md5"])
        if record.get("pdq_dihedral"):
            found += self.match_dihedral(
                record["pdq_dihedral"] + [h for h in [record.get("pdq_square")] if h]
            )
        if record.get("vpdq"):
            found += self.match_video([f[2] for f in record["vpdq"] if f[1] >= 50])
        if record.get("tlsh"):
            found += self.match_tlsh(record["tlsh"])
        if record.get("chromaprint"):
            found += self.match_audio(record["chromaprint"])
        self._attach_meta(found)
        return split(found)

    def match_file(self, path: Path) -> tuple[dict[str, Any], MatchResult]:
        from vigil.hashing.files import hash_file

        record = hash_file(path)
        return record, self.match_record(record)

    def _attach_meta(self, found: list[Match]) -> None:
        if not found:
            return
        entries = self.service.get_entries(sorted({m.entry_id for m in found}))
        for m in found:
            e = entries.get(m.entry_id)
            if e is not None:
                m.meta = {
                    **e.meta,
                    **m.meta,
                    "source": e.source,
                    "source_id": e.source_id,
                    "first_seen": e.first_seen.isoformat() if e.first_seen else None,
                }


def split(found: list[Match]) -> MatchResult:
    """Negative-bank matches suppress the positive ones."""
    negative = [m for m in found if m.negative]
    positive = sorted((m for m in found if not m.negative), key=lambda m: (m.distance, m.bank, m.entry_id))
    if negative:
        return MatchResult([], positive, negative)
    return MatchResult(positive, [], [])
