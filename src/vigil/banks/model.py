"""Banks and entries as the rest of vigil sees them, and validation of hash values."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

DEFAULT_THRESHOLD = 31
MAX_SOURCE_ID = 512  # characters of an entry's id in its source list (bank_entries.source_id)
SIGNAL_TYPES = ("pdq", "md5", "sha256", "vpdq", "tlsh", "chromaprint")

_HEX = {"pdq": 64, "md5": 32, "sha256": 64}
_TLSH = re.compile(r"^(T1)?[0-9A-Fa-f]{70}$")
_CHROMAPRINT = re.compile(r"^\d+(,\d+)*$")
_LOWER_HEX = re.compile(r"[0-9a-f]+")

# Names other tools give the same signal types.
ALIASES = {
    "pdq": "pdq",
    "hash_pdq": "pdq",
    "photo_pdq": "pdq",
    "md5": "md5",
    "hash_md5": "md5",
    "video_md5": "md5",
    "photo_md5": "md5",
    "sha256": "sha256",
    "sha-256": "sha256",
    "hash_sha256": "sha256",
    "vpdq": "vpdq",
    "video_vpdq": "vpdq",
    "tlsh": "tlsh",
    "hash_tlsh": "tlsh",
    "chromaprint": "chromaprint",
}


def normalise_type(name: str) -> str | None:
    return ALIASES.get(name.strip().lower())


def normalise_value(signal_type: str, value: str) -> str:
    """The canonical form of a hash, or ValueError saying what is wrong with it."""
    value = value.strip()
    if signal_type in _HEX:
        want = _HEX[signal_type]
        low = value.lower()
        if len(low) != want or not _LOWER_HEX.fullmatch(low):
            raise ValueError(f"not a {signal_type} hash ({want} hex digits): {value[:80]!r}")
        return low
    if signal_type == "vpdq":
        frames = [v for v in re.split(r"[\s,;]+", value) if v]
        if not frames:
            raise ValueError("empty vpdq hash")
        return " ".join(normalise_value("pdq", f) for f in frames)
    if signal_type == "tlsh":
        if not _TLSH.fullmatch(value):
            raise ValueError(f"not a TLSH digest: {value[:80]!r}")
        return value.upper()
    if signal_type == "chromaprint":
        if not _CHROMAPRINT.fullmatch(value):
            raise ValueError("not a Chromaprint raw fingerprint (comma-separated integers)")
        return value
    raise ValueError(f"unknown signal type {signal_type!r}; known: {', '.join(SIGNAL_TYPES)}")


@dataclass(slots=True)
class Bank:
    id: int
    name: str
    threshold: int = DEFAULT_THRESHOLD
    negative: bool = False
    enabled: bool = True
    description: str = ""
    version: int = 0
    entries: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class NewEntry:
    """An entry to add. ``meta`` keeps everything the source said about it, whatever the keys."""

    signal_type: str
    value: str
    meta: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    source_id: str | None = None
    first_seen: datetime | None = None
    extra_hashes: list[str] = field(default_factory=list)  # more PDQ hashes of the same content


@dataclass(slots=True)
class Entry:
    id: int
    bank: str
    signal_type: str
    value: str
    meta: dict[str, Any]
    source: str | None
    source_id: str | None
    first_seen: datetime | None
    enabled: bool
    quarantined: bool
    review_reason: str | None
    match_count: int

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["first_seen"] = self.first_seen.isoformat() if self.first_seen else None
        return out
