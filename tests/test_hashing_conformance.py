"""PDQ and vPDQ against the published reference data, and robustness to the edits re-uploads make."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter

from tests.conftest import SHARED_DATA
from vigil.banks.pdqindex import distances, hex_to_words
from vigil.hashing.pdq import pdq_of

MEDIA = SHARED_DATA / "media"
PDQ = MEDIA / "pdq" / "data"
REFERENCE = json.loads((MEDIA / "pdq_reference_hashes.json").read_text())["hashes"]
DIH = sorted((PDQ / "reg-test-input" / "dih").glob("*.jpg"))
LABELME = sorted((PDQ / "reg-test-input" / "labelme-subset").glob("*.jpg"))
THRESHOLD = 31


def dist(a: str, b: str) -> int:
    return int(distances(hex_to_words([a]), hex_to_words([b]))[0])


def best(variants: list[str], target: str | list[str]) -> int:
    targets = [target] if isinstance(target, str) else target
    return min(dist(v, t) for v in variants for t in targets)


@pytest.mark.parametrize("rel", sorted(REFERENCE))
def test_pdq_agrees_with_published_hashes(rel: str) -> None:
    assert dist(pdq_of(MEDIA / rel).hash, REFERENCE[rel]) <= 16


def test_the_eight_dihedral_images_match_the_original() -> None:
    original = pdq_of(DIH[0])
    assert len(DIH) == 8
    for path in DIH[1:]:
        rotated = pdq_of(path)
        assert dist(rotated.hash, original.hash) > THRESHOLD  # a plain PDQ would miss it ...
        assert best(rotated.dihedral, original.hash) <= THRESHOLD  # ... the dihedral variants do not


def test_every_pil_mode_matches_the_original() -> None:
    modes = PDQ / "misc-images" / "modes"
    original = pdq_of(modes / "original.jpg").hash
    for path in sorted(modes.iterdir()):
        if path.suffix in (".md",) or path.name == "original.jpg":
            continue
        assert dist(pdq_of(path).hash, original) <= THRESHOLD, path.name


def _jpeg(img: Image.Image, exif_orientation: int | None = None) -> bytes:
    buf = io.BytesIO()
    exif = Image.Exif()
    if exif_orientation:
        exif[0x0112] = exif_orientation
    img.convert("RGB").save(buf, "JPEG", quality=85, exif=exif.tobytes())
    return buf.getvalue()


def _variants(img: Image.Image) -> dict[str, bytes]:
    w, h = img.size
    side = min(w, h)
    square = img.crop(((w - side) // 2, (h - side) // 2, (w + side) // 2, (h + side) // 2))
    letterbox = Image.new("RGB", (w, h + h // 3), (0, 0, 0))
    letterbox.paste(img, (0, h // 6))
    return {
        "blur": _jpeg(img.filter(ImageFilter.GaussianBlur(max(w, h) / 400))),
        "contrast": _jpeg(ImageEnhance.Contrast(img).enhance(1.6)),
        "low-contrast": _jpeg(ImageEnhance.Contrast(img).enhance(0.6)),
        "saturation": _jpeg(ImageEnhance.Color(img).enhance(2.0)),
        "greyscale": _jpeg(img.convert("L")),
        "sharpen": _jpeg(img.filter(ImageFilter.UnsharpMask(3, 200))),
        "shrink": _jpeg(img.resize((max(1, w // 4), max(1, h // 4)))),
        "square-crop-resize": _jpeg(square.resize((400, 400))),
        "letterbox": _jpeg(letterbox),
        # Pixels stored rotated, with EXIF saying how to turn them back: must hash like the original.
        "exif-rotate": _jpeg(img.transpose(Image.Transpose.ROTATE_90), exif_orientation=6),
        "rotate-90": _jpeg(img.transpose(Image.Transpose.ROTATE_90)),
        "rotate-180": _jpeg(img.transpose(Image.Transpose.ROTATE_180)),
        "flip": _jpeg(img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
        "flop": _jpeg(img.transpose(Image.Transpose.FLIP_TOP_BOTTOM)),
    }


# q0122 is left out of the edit tests: PDQ itself is unstable on it (a 256->400 px resize alone moves
# its hash by 70 bits although it reports quality 100). docs/banks.md lists it as a known weakness.
SOURCES = [p for p in [*LABELME, DIH[0]] if p.name != "q0122.jpg"]


@pytest.mark.parametrize("path", SOURCES, ids=[p.name for p in SOURCES])
def test_edited_copies_match_their_original(path: Path) -> None:
    original = pdq_of(path)
    if original.quality < 50:
        pytest.skip(f"quality {original.quality}: PDQ guidance is not to match on such hashes")
    img = Image.open(path)
    img.thumbnail((800, 800))  # the edits are made on a smaller copy (as re-posts usually are)
    for name, data in _variants(img).items():
        variant = pdq_of(data)
        # What a bank holds for an added image: its hash and its centre square's (see bank add).
        assert best(variant.variants, [original.hash, *filter(None, [original.square])]) <= THRESHOLD, name


def test_unrelated_reference_images_never_match() -> None:
    hashes = {p.name: pdq_of(p) for p in [*SOURCES, PDQ / "misc-images" / "c.png"]}
    names = sorted(hashes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if hashes[a].quality < 50 or hashes[b].quality < 50:
                continue
            assert best(hashes[a].dihedral, hashes[b].hash) > THRESHOLD, (a, b)


def _sample_hashes(name: str) -> list[tuple[int, int, str]]:
    rows = []
    for line in (MEDIA / "vpdq" / "sample-hashes" / f"{name}.txt").read_text().splitlines():
        frame, quality, pdq, *_ = line.split(",")
        rows.append((int(frame), int(quality), pdq))
    return rows


@pytest.mark.parametrize("name", ["chair-20-sd-bar", "pattern-sd-grey-bar"])
def test_vpdq_frames_agree_with_published_hashes(name: str) -> None:
    from vigil.hashing.video import vpdq_frames

    ours = vpdq_frames(MEDIA / "tmk" / "sample-videos" / f"{name}.mp4", seconds_per_hash=0)
    published = _sample_hashes(name)
    assert len(ours) == len(published)
    close = [dist(f.hash, p[2]) <= 16 for f, p in zip(ours, published, strict=True)]
    assert np.mean(close) >= 0.95
