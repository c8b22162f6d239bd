"""TLSH of documents, Chromaprint audio fingerprints, and OCR text through the text detectors."""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from vigil.config import Config
from vigil.core.model import Item
from vigil.detect.context import DetectorContext
from vigil.hashing.document import tlsh_distance, tlsh_of
from vigil.store.media import MediaSink

PLACEHOLDER = "The quick brown fox jumps over the lazy dog near the quiet river bank. " * 30


def _pdf(text: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    y = 800
    for k in range(0, len(text), 90):
        c.drawString(40, y, text[k : k + 90])
        y -= 14
    c.save()
    return buf.getvalue()


def test_tlsh_matches_pdf_text_not_bytes() -> None:
    a = _pdf(PLACEHOLDER)
    b = _pdf(PLACEHOLDER.replace("lazy", "sleepy", 2))
    ha, hb = tlsh_of(a), tlsh_of(b)
    assert ha and hb and tlsh_distance(ha, hb) <= 40
    other = tlsh_of(_pdf("Completely different words about gardening tools and soil. " * 30))
    assert other and tlsh_distance(ha, other) > 100
    assert tlsh_of(b"short") is None


def _wav(path: Path, seed: int, seconds: float = 12.0) -> None:
    rate = 11025
    t = np.arange(int(rate * seconds)) / rate
    rng = np.random.default_rng(seed)
    signal = np.zeros_like(t)
    for start in np.arange(0, seconds, 0.25):  # a random melody
        f = float(rng.choice([220, 262, 294, 330, 349, 392, 440, 494, 523]))
        mask = (t >= start) & (t < start + 0.25)
        signal[mask] = np.sin(2 * np.pi * f * t[mask]) + 0.5 * np.sin(4 * np.pi * f * t[mask])
    pcm = (signal / np.abs(signal).max() * 20000).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


@pytest.mark.skipif(not shutil.which("fpcalc") or not shutil.which("ffmpeg"), reason="needs fpcalc, ffmpeg")
def test_audio_fingerprint_survives_reencoding(tmp_path: Path) -> None:
    from vigil.hashing.audio import fingerprint, similarity

    _wav(tmp_path / "a.wav", 1)
    _wav(tmp_path / "b.wav", 2)
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-i",
            str(tmp_path / "a.wav"),
            "-b:a",
            "48k",
            str(tmp_path / "a.mp3"),
        ],
        check=True,
    )
    a, a2, b = (fingerprint(tmp_path / n) for n in ("a.wav", "a.mp3", "b.wav"))
    assert similarity(a, a2) >= 0.8
    assert similarity(a, b) < 0.8


def _text_image(words: str) -> bytes:
    img = Image.new("RGB", (900, 200), "white")
    draw = ImageDraw.Draw(img)
    draw.text((30, 60), words, fill="black", font=ImageFont.load_default(size=64))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.skipif(not shutil.which("tesseract"), reason="needs tesseract")
def test_ocr_text_goes_through_the_text_detectors(config: Config) -> None:
    from vigil.detect.ocr import OcrDetector
    from vigil.hashing.ocr import ocr_text

    data = _text_image("PLACEHOLDER BANNER")
    assert "PLACEHOLDER" in ocr_text(Image.open(io.BytesIO(data)), ("eng",)).upper()
    (config.home / "watchlist.txt").write_text("banner\n", "utf-8")
    media = MediaSink(config.media_dir).put_bytes(data, "poster.png", "image/png")
    config.extra["ocr_languages"] = ["eng"]
    signals = OcrDetector(DetectorContext(config)).detect(
        [Item(id="p1", source="test", text="", media=[media])]
    )
    by_detector = {s.detector: s for s in signals}
    # Every configured text detector ran on the OCR text; the watch-list term found in the image hits.
    assert {"ocr+watchlist", "ocr+text"} <= set(by_detector)
    signal = by_detector["ocr+watchlist"]
    assert signal.hit and signal.meta["ocr_media"] == media.sha256
