"""PDQ hashes of images (Meta's ``pdqhash``): the hash, its quality, and the 8 dihedral variants."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pdqhash

from vigil.hashing.image import open_image, to_rgb, trim_borders

MIN_QUALITY = 50  # below this, Meta's guidance is not to trust the hash for matching


@dataclass(slots=True)
class PdqResult:
    hash: str
    quality: int
    dihedral: list[str]  # original, rot90, rot180, rot270, flipx, flipy, flip+1, flip-1


def bits_to_hex(bits: npt.NDArray[np.integer]) -> str:
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def pdq_of_rgb(rgb: npt.NDArray[np.uint8], trim: bool = True) -> PdqResult:
    if trim:
        rgb = trim_borders(rgb)
    rgb = np.ascontiguousarray(rgb)
    hashes, quality = pdqhash.compute_dihedral(rgb)
    hexes = [bits_to_hex(h) for h in hashes]
    return PdqResult(hexes[0], int(quality), hexes)


def pdq_of(source: Path | bytes, trim: bool = True) -> PdqResult:
    return pdq_of_rgb(to_rgb(open_image(source)), trim)
