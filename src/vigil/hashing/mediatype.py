"""What a media file is by its first bytes, and the checks bytes from outside (a fetched URL, a WARC
record) pass before they are kept: an image or video by magic bytes, agreeing with the declared type, and
an image fully decodable within the pixel limit (truncated files and decompression bombs refused)."""

from __future__ import annotations

from vigil.errors import RecordError

# (offset, magic, mime): checked in order, first match wins.
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"II+\x00", "image/tiff"),  # BigTIFF
    (0, b"MM\x00+", "image/tiff"),
    (0, b"\x00\x00\x01\x00", "image/vnd.microsoft.icon"),
    (0, b"\x00\x00\x00\x0cjP  \r\n\x87\n", "image/jp2"),
    (0, b"\xff\x4f\xff\x51", "image/jp2"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"\x1aE\xdf\xa3", "video/webm"),
    (0, b"OggS", "audio/ogg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"\xff\xfb", "audio/mpeg"),
    (0, b"\xff\xf3", "audio/mpeg"),
)
_RIFF = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}
_FTYP = {b"qt  ": "video/quicktime", b"M4A ": "audio/mp4", b"heic": "image/heic", b"avif": "image/avif"}
#: Declared types that say nothing about the bytes: the magic bytes decide alone.
UNTYPED = frozenset({"", "application/octet-stream", "binary/octet-stream"})
MEDIA_MAJORS = ("image", "video")


#: BMP info-header sizes (OS/2 1.x and 2.x, Windows 3 to 5 and their variants): ``BM`` alone is too short
#: a signature to trust.
_BMP_HEADERS = frozenset({12, 16, 40, 52, 56, 64, 108, 124})


def _is_bmp(head: bytes) -> bool:
    return len(head) >= 18 and head[:2] == b"BM" and int.from_bytes(head[14:18], "little") in _BMP_HEADERS


def sniff_mime(head: bytes) -> str | None:
    """The MIME type that a file's first bytes announce, or None when they announce no media type."""
    for offset, magic, mime in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return mime
    if _is_bmp(head):
        return "image/bmp"
    if head[:4] == b"RIFF" and head[8:12] in _RIFF:
        return _RIFF[head[8:12]]
    if head[4:8] == b"ftyp":
        return _FTYP.get(head[8:12], "video/mp4")
    return None


def is_media_type(content_type: str) -> bool:
    """May a response of this declared type be an image or a video? (untyped ones may)"""
    return content_type in UNTYPED or content_type.split("/", 1)[0] in MEDIA_MAJORS


def check_media(data: bytes, declared: str) -> str:
    """The MIME type of ``data`` when it is an image or video that may be kept; RecordError with the
    reason otherwise."""
    if not data:
        raise RecordError("empty body")
    sniffed = sniff_mime(data[:64])
    shown = declared or "no content type"
    if sniffed is None or sniffed.split("/", 1)[0] not in MEDIA_MAJORS:
        raise RecordError(f"not an image or video by its bytes ({shown}, bytes say {sniffed or 'unknown'})")
    if declared not in UNTYPED and declared.split("/", 1)[0] != sniffed.split("/", 1)[0]:
        raise RecordError(f"declared {declared} but the bytes are {sniffed}")
    if sniffed.startswith("image/") and sniffed not in ("image/heic", "image/avif"):
        from vigil.hashing.image import open_image

        open_image(data)  # truncated, corrupt or too many pixels: RecordError with the reason
    return sniffed
