"""PDQ hashes of images (Meta's ``pdqhash``): the hash, its quality, the 8 dihedral variants, and the
hash of the centre square (so a square crop of a wide image, the usual re-post, still matches).

The dihedral variants are hashed from the rotated and flipped pixels: ``pdqhash.compute_dihedral``
derives them from the DCT instead, and on small images that drifts by 50 bits or more.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pdqhash
from PIL import Image

from vigil.hashing.image import open_image, to_rgb, trim_borders

MIN_QUALITY = 50  # below this, Meta's guidance is not to trust the hash for matching
SQUARE_ASPECT = 1.15
WORKING_SIDE = 512  # wider or taller than this: also hash the centre square


@dataclass(slots=True)
class PdqResult:
    hash: str
    quality: int
    dihedral: list[str]  # original, rot90, rot180, rot270, flip-x, flip-y, transpose, anti-transpose
    square: str | None = None  # the centre square crop's hash, for non-square images

    @property
    def variants(self) -> list[str]:
        return self.dihedral + ([self.square] if self.square else [])


def bits_to_hex(bits: npt.NDArray[np.integer]) -> str:
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def _hash(rgb: npt.NDArray[np.uint8]) -> tuple[str, int]:
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return bits_to_hex(bits), int(quality)


def dihedral_arrays(rgb: npt.NDArray[np.uint8]) -> list[npt.NDArray[np.uint8]]:
    t = np.swapaxes(rgb, 0, 1)
    return [rgb, np.rot90(rgb), rgb[::-1, ::-1], np.rot90(rgb, 3), rgb[:, ::-1], rgb[::-1], t, t[::-1, ::-1]]


def centre_square(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8] | None:
    h, w = rgb.shape[:2]
    if max(h, w) < SQUARE_ASPECT * min(h, w):
        return None
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return rgb[top : top + side, left : left + side]


def shrink(rgb: npt.NDArray[np.uint8], side: int = WORKING_SIDE) -> npt.NDArray[np.uint8]:
    """Box-filter down to at most ``side`` pixels a side: PDQ reduces to 64x64 anyway, and nine hashes
    of a full-size photo would cost seconds."""
    h, w = rgb.shape[:2]
    if max(h, w) <= side:
        return rgb
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX), dtype=np.uint8)


def pdq_of_rgb(rgb: npt.NDArray[np.uint8], trim: bool = True) -> PdqResult:
    rgb = shrink(rgb)
    if trim:
        rgb = trim_borders(rgb)
    arrays = dihedral_arrays(rgb)
    first, quality = _hash(arrays[0])
    dihedral = [first] + [_hash(a)[0] for a in arrays[1:]]
    square = centre_square(rgb)
    return PdqResult(first, quality, dihedral, _hash(square)[0] if square is not None else None)


def pdq_of(source: Path | bytes, trim: bool = True) -> PdqResult:
    return pdq_of_rgb(to_rgb(open_image(source)), trim)
