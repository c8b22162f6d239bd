"""OCR of images with Tesseract (pytesseract), in every language pack installed that vigil knows."""

from __future__ import annotations

import logging
from functools import cache

from PIL import Image

log = logging.getLogger(__name__)

WANTED = ("eng", "ara", "fra", "deu", "rus", "fas", "urd", "tur")


@cache
def available_languages() -> tuple[str, ...]:
    import pytesseract

    try:
        have = set(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, OSError, RuntimeError):
        return ()
    return tuple(lang for lang in WANTED if lang in have)


def ocr_text(img: Image.Image, languages: tuple[str, ...] | None = None, timeout: float = 60.0) -> str:
    """The text Tesseract reads in the image, or "" when Tesseract is missing or gives up."""
    import pytesseract

    langs = languages or available_languages()
    if not langs:
        return ""
    try:
        return str(pytesseract.image_to_string(img.convert("RGB"), lang="+".join(langs), timeout=timeout))
    except (RuntimeError, pytesseract.TesseractError) as exc:
        log.info("OCR failed: %s", exc)
        return ""
