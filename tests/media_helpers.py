"""Images the media tests draw (Pillow), hostile image bytes, WARCs with media records, and the CLI."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


def drawn(seed: int, fmt: str = "PNG", size: tuple[int, int] = (320, 240)) -> bytes:
    """A picture of overlapping shapes; different seeds give pictures far apart in PDQ distance."""
    img = Image.new("RGB", size, (30 + seed * 40 % 200, 60, 90))
    draw = ImageDraw.Draw(img)
    w, h = size
    for i in range(10):
        x = (i * 37 * (seed + 1)) % w
        y = (i * 53 * (seed + 2)) % h
        fill = ((seed * 70 + i * 25) % 256, (255 - i * 20) % 256, (seed * 30 + i * 11) % 256)
        if (i + seed) % 2:
            draw.ellipse((x - 60, y - 40, x + 60, y + 40), fill=fill)
        else:
            draw.rectangle((x - 50, y - 30, x + 50, y + 30), fill=fill)
    out = io.BytesIO()
    img.save(out, fmt)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    """A small, well-formed PNG whose header declares huge dimensions (a decompression bomb's shape)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 4096, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def truncated(data: bytes) -> bytes:
    return data[: len(data) * 2 // 3]


def warc(records: Sequence[tuple[str, str, bytes]]) -> bytes:
    """A WARC with one response per (url, content type, body), in that order."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=False)
    for url, ctype, body in records:
        http = StatusAndHeaders(
            "200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body)))], protocol="HTTP/1.1"
        )
        record = writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), length=len(body), http_headers=http
        )
        writer.write_record(record)
    return out.getvalue()


def run_cli(
    args: list[str], home: Path, database_url: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "VIGIL_HOME": str(home), **(env or {})}
    full.pop("VIGIL_DATABASE_URL", None)
    if not database_url.startswith("sqlite"):
        full["VIGIL_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "vigil", *args], env=full, capture_output=True, text=True, timeout=300
    )
