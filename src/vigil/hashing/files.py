"""``vigil hash``: what kind a file is, and every hash that applies to it."""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path
from typing import Any

from vigil.errors import RecordError
from vigil.hashing.mediatype import sniff_mime

_VIDEO_EXT = {".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".flv", ".wmv", ".mpg", ".mpeg", ".3gp", ".ts"}
_AUDIO_EXT = {".mp3", ".ogg", ".oga", ".opus", ".wav", ".flac", ".m4a", ".aac", ".wma"}
_DOC_EXT = {".pdf", ".txt", ".doc", ".docx", ".epub", ".rtf", ".odt", ".html", ".htm"}


def digests(path: Path) -> tuple[str, str, int]:
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            md5.update(chunk)
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), md5.hexdigest(), size


def sniff_kind(path: Path, head: bytes) -> str:
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM")) or (
        (sniff_mime(head) or "").startswith("image/")
    ):
        return "image"
    if head.startswith(b"%PDF"):
        return "document"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "audio" if brand in (b"M4A ", b"M4B ") else "video"
    if head.startswith(b"\x1aE\xdf\xa3") or (head[:4] == b"RIFF" and head[8:12] == b"AVI "):
        return "video"
    if head.startswith((b"ID3", b"fLaC", b"OggS")) or (head[:4] == b"RIFF" and head[8:12] == b"WAVE"):
        return "audio"
    ext = path.suffix.lower()
    if ext in _VIDEO_EXT:
        return "video"
    if ext in _AUDIO_EXT:
        return "audio"
    if ext in _DOC_EXT:
        return "document"
    mime = mimetypes.guess_type(path.name)[0] or ""
    return mime.split("/", 1)[0] if mime.split("/", 1)[0] in ("image", "video", "audio") else "other"


def hash_file(path: Path, ocr: bool = False, every_frame: bool = False) -> dict[str, Any]:
    """One record per file. Perceptual hashes that fail leave an ``error`` and keep the digests."""
    sha, md5, size = digests(path)
    with path.open("rb") as fh:
        head = fh.read(64)
    kind = sniff_kind(path, head)
    out: dict[str, Any] = {"path": str(path), "sha256": sha, "md5": md5, "size": size, "kind": kind}
    out.update({"pdq": None, "pdq_quality": None})
    try:
        if kind == "image":
            out.update(image_hashes(path, ocr))
        elif kind == "video":
            from vigil.hashing.video import vpdq_frames

            frames = vpdq_frames(path, 0.0 if every_frame else 1.0)
            out["vpdq"] = [[f.number, f.quality, f.hash, round(f.timestamp, 3)] for f in frames]
        elif kind == "audio":
            from vigil.hashing.audio import encode, fingerprint

            out["chromaprint"] = encode(fingerprint(path))
        elif kind == "document" or kind == "other":
            from vigil.hashing.document import tlsh_of

            if size <= 64 * 1024**2:
                out["tlsh"] = tlsh_of(path.read_bytes())
    except RecordError as exc:
        out["error"] = exc.reason
    return out


def image_hashes(path: Path, ocr: bool = False) -> dict[str, Any]:
    from vigil.hashing.image import open_image, to_rgb
    from vigil.hashing.pdq import pdq_of_rgb

    img = open_image(path)
    result = pdq_of_rgb(to_rgb(img))
    out: dict[str, Any] = {
        "pdq": result.hash,
        "pdq_quality": result.quality,
        "pdq_dihedral": result.dihedral,
        "pdq_square": result.square,
        "width": img.width,
        "height": img.height,
    }
    if ocr:
        from vigil.hashing.ocr import ocr_text

        out["ocr_text"] = ocr_text(img)
    return out
