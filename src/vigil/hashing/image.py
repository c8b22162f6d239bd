"""Loading any image PIL can read into plain 8-bit RGB: EXIF orientation applied, every mode handled
(alpha flattened onto white, 16/32-bit and float images rescaled, palette and CMYK converted), and
uniform borders trimmed (unletterboxing) so that a letterboxed copy hashes like its original."""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from vigil.errors import RecordError

MAX_PIXELS = 100_000_000
BORDER_TOLERANCE = 12  # grey levels: JPEG noise in a black bar stays below this
BAR_DARK, BAR_LIGHT = 40, 215
MIN_KEEP = 0.2  # never trim an image to less than this fraction of a side


def open_image(source: Path | bytes) -> Image.Image:
    """Open and fully decode, with the orientation its EXIF data asks for. Every way Pillow fails on a
    broken file becomes a RecordError with the reason, and the file is closed."""
    try:
        return _open(source)
    except RecordError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RecordError(f"image too large (decompression bomb?): {exc}") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise RecordError(f"not a readable image: {exc}") from exc
    except (SyntaxError, EOFError, IndexError, KeyError, TypeError, ZeroDivisionError, struct.error) as exc:
        # What Pillow's decoders raise on broken files besides OSError: an APNG with frame-sequence
        # errors is a SyntaxError, a short BMP palette an IndexError, ...
        raise RecordError(f"not a readable image: {type(exc).__name__}: {exc}") from exc
    except MemoryError as exc:
        raise RecordError("image too large to decode in memory") from exc


def _open(source: Path | bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Invalid APNG, will use default PNG image"
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        img = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
        try:
            if img.width * img.height > MAX_PIXELS:
                raise RecordError(f"image too large: {img.width}x{img.height}")
            img.load()
            out = ImageOps.exif_transpose(img) or img
            if out is img and getattr(img, "fp", None) is not None:
                out = img.copy()  # a multi-frame file (APNG, TIFF) keeps its file open: let it go
            if out is not img:
                img.close()
            return out
        except BaseException:
            img.close()
            raise


def to_rgb(img: Image.Image) -> npt.NDArray[np.uint8]:
    """Any PIL mode -> (h, w, 3) uint8; RecordError when the pixels cannot be converted."""
    try:
        return _to_rgb(img)
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, KeyError, TypeError) as exc:
        raise RecordError(f"not a readable image: {type(exc).__name__}: {exc}") from exc


def _to_rgb(img: Image.Image) -> npt.NDArray[np.uint8]:
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scaled = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
        grey = scaled.round().astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    if img.mode == "LAB":
        from PIL import ImageCms

        img = ImageCms.applyTransform(  # type: ignore[assignment]
            img,
            ImageCms.buildTransformFromOpenProfiles(
                ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB"), "LAB", "RGB"
            ),
        )
    return np.asarray(img.convert("RGB"), dtype=np.uint8)


def trim_borders(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Remove uniform bars (letterbox, pillarbox, solid frames) from every edge."""
    grey = np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.int16)
    h, w = grey.shape
    if h < 8 or w < 8:
        return rgb

    def uniform(line: npt.NDArray[np.int16], ref: float) -> bool:
        # Bars are black or white; a flat grey or blue edge is more often sky or background than padding.
        if BAR_DARK < ref < BAR_LIGHT:
            return False
        return bool(np.abs(line - ref).max() <= BORDER_TOLERANCE)

    top, bottom, left, right = 0, h, 0, w
    min_h, min_w = max(4, int(h * MIN_KEEP)), max(4, int(w * MIN_KEEP))
    ref = float(grey[0, 0])
    while bottom - top > min_h and uniform(grey[top, left:right], ref):
        top += 1
    ref = float(grey[h - 1, w - 1])
    while bottom - top > min_h and uniform(grey[bottom - 1, left:right], ref):
        bottom -= 1
    ref = float(grey[top, 0])
    while right - left > min_w and uniform(grey[top:bottom, left], ref):
        left += 1
    ref = float(grey[bottom - 1, w - 1])
    while right - left > min_w and uniform(grey[top:bottom, right - 1], ref):
        right -= 1
    if (top, bottom, left, right) == (0, h, 0, w):
        return rgb
    if bottom - top <= min_h or right - left <= min_w:
        return rgb  # the whole image is flat: nothing to unletterbox
    return rgb[top:bottom, left:right]
