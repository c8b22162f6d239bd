"""vPDQ: a PDQ hash per sampled video frame (Meta's ``vpdq``, optional extra ``video``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vigil.errors import RecordError


@dataclass(slots=True)
class Frame:
    number: int
    quality: int
    hash: str
    timestamp: float


def vpdq_frames(path: Path, seconds_per_hash: float = 1.0) -> list[Frame]:
    """Frames sampled every ``seconds_per_hash`` (0: every frame)."""
    try:
        import vpdq
    except ImportError as exc:  # pragma: no cover - the extra is part of the dev set-up
        raise RecordError("video hashing needs the 'video' extra (vpdq)") from exc
    try:
        features = vpdq.computeHash(str(path), seconds_per_hash=seconds_per_hash)
    except Exception as exc:  # vpdq raises plain ValueError/RuntimeError on undecodable input
        raise RecordError(f"not a readable video: {exc}") from exc
    return [Frame(f.frame_number, f.quality, f.hex, float(f.timestamp)) for f in features]


def distinct_hashes(frames: list[Frame], min_quality: int = 50) -> list[str]:
    """The frame hashes worth indexing: good quality, each once."""
    return list(dict.fromkeys(f.hash for f in frames if f.quality >= min_quality))
