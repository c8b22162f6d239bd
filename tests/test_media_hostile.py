"""Hostile media bytes from outside (a fetched URL, a WARC record): every input is either kept as an image
or video of a known type or refused with a reason, never an unexpected exception; truncated images,
mismatched types and decompression bombs (huge declared dimensions) are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.media_helpers import drawn, png_bomb, truncated, warc
from vigil.core.model import Item, Quarantined
from vigil.errors import RecordError
from vigil.hashing.mediatype import check_media
from vigil.sources.base import SourceContext
from vigil.sources.warc import WarcSource
from vigil.store.media import MediaSink

PNG, JPEG = drawn(4), drawn(5, "JPEG")
HEADS = [PNG[:64], JPEG[:64], b"GIF89a", b"\x1aE\xdf\xa3", b"\0\0\0\x18ftypmp42", b"RIFF\0\0\0\0WEBP", b""]
TYPES = ["image/png", "image/jpeg", "video/mp4", "", "application/octet-stream", "text/html", "image/gif"]


@pytest.mark.parametrize(
    ("data", "declared", "reason"),
    [
        (truncated(PNG), "image/png", "not a readable image"),
        (truncated(JPEG), "image/jpeg", "not a readable image"),
        (png_bomb(), "image/png", "image too large"),
        (png_bomb(12_000, 9_000), "", "image too large"),
        (PNG, "video/mp4", "declared video/mp4 but the bytes are image/png"),
        (b"\x1aE\xdf\xa3" + b"\0" * 60, "image/png", "declared image/png but the bytes are video/webm"),
        (b"%PDF-1.7 placeholder", "application/octet-stream", "not an image or video by its bytes"),
        (b"ID3 placeholder", "image/png", "not an image or video by its bytes"),
        (b"", "image/png", "empty body"),
    ],
)
def test_refused_with_reason(data: bytes, declared: str, reason: str) -> None:
    with pytest.raises(RecordError) as caught:
        check_media(data, declared)
    assert caught.value.reason.startswith(reason)


def test_real_images_pass_whatever_generic_type_is_declared() -> None:
    assert check_media(PNG, "image/png") == "image/png"
    assert check_media(JPEG, "") == "image/jpeg"
    assert check_media(JPEG, "application/octet-stream") == "image/jpeg"
    assert check_media(PNG, "image/jpeg") == "image/png"  # both images: the bytes name the type


@given(st.sampled_from(HEADS), st.binary(max_size=600), st.sampled_from(TYPES))
def test_any_bytes_are_kept_or_refused_with_a_reason(head: bytes, tail: bytes, declared: str) -> None:
    try:
        mime = check_media(head + tail, declared)
    except RecordError as exc:
        assert exc.reason
    else:
        assert mime.split("/")[0] in ("image", "video")


@given(
    st.binary(min_size=1, max_size=400),
    st.sampled_from(["image/png", "video/mp4", "application/octet-stream"]),
)
def test_warc_with_hostile_media_records_never_breaks(
    tmp_path_factory: pytest.TempPathFactory, body: bytes, ctype: str
) -> None:
    folder = tmp_path_factory.mktemp("warc")
    path = folder / "x.warc"
    path.write_bytes(
        warc([("https://example.org/a", ctype, PNG[:8] + body), ("https://example.org/b", "image/png", PNG)])
    )
    ctx = SourceContext(media=MediaSink(folder / "media"), max_media_bytes=10_000)
    out = list(WarcSource().read(path, ctx))
    items = [r for r in out if isinstance(r, Item)]
    assert [i.url for i in items][-1] == "https://example.org/b"  # the good record after it is read
    for record in out:
        if isinstance(record, Quarantined):
            assert (
                record.reason.startswith("media https://example.org/a: ")
                or "record body longer" in record.reason
            )


def test_warc_media_over_the_limit_is_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "big.warc"
    path.write_bytes(warc([("https://example.org/big.png", "image/png", PNG)]))
    ctx = SourceContext(media=MediaSink(tmp_path / "media"), max_media_bytes=len(PNG) - 1)
    [bad] = list(WarcSource().read(path, ctx))
    assert isinstance(bad, Quarantined) and bad.reason == f"record body longer than {len(PNG) - 1} bytes"
