"""TLSH of documents: over the extracted text of PDFs (so re-saved copies match), raw bytes otherwise."""

from __future__ import annotations

import io
import logging

import tlsh

log = logging.getLogger(__name__)

MAX_PDF_PAGES = 500


def pdf_text(data: bytes) -> str | None:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = reader.pages[:MAX_PDF_PAGES]
        return "\n".join((page.extract_text() or "") for page in pages)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        log.info("pdf text extraction failed: %s", exc)
        return None


def tlsh_of(data: bytes) -> str | None:
    """The TLSH digest, or None when the input is too short or too uniform for one."""
    if data.startswith(b"%PDF"):
        text = pdf_text(data)
        if text and text.strip():
            data = " ".join(text.split()).encode("utf-8")
    digest = tlsh.hash(data)
    return None if not digest or digest == "TNULL" else str(digest)


def tlsh_distance(a: str, b: str) -> int:
    return int(tlsh.diff(a, b))
