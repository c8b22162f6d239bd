"""Images inside a WARC: kept by content type and magic bytes, attached to the page of the same WARC that
references them (whichever comes first), hashed and matched like loose media (``vigil scan``, SQLite and
PostgreSQL); hostile image records are quarantined with their reason; the page buffer is bounded."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.media_helpers import drawn, png_bomb, run_cli, truncated, warc
from vigil.core.model import Item, Media
from vigil.sources import warcmedia
from vigil.sources.warcmedia import PageMediaLinker
from vigil.store import Store

KNOWN, OTHER, LOOSE = drawn(0), drawn(1), drawn(3, "JPEG")
PAGE = (
    "<html><body><article><h1>Library notice</h1><p>Neutral placeholder paragraph about the opening "
    "hours of the town library, long enough to be the main text of the page.</p>"
    '<img src="{src}"></article></body></html>'
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_warc_image_is_linked_to_its_page_and_matched(
    tmp_path: Path, home: Path, store: Store, database_url: str
) -> None:
    (tmp_path / "known.png").write_bytes(KNOWN)
    for args in (
        ["bank", "create", "known-images"],
        ["bank", "add", "known-images", str(tmp_path / "known.png")],
    ):
        assert run_cli(args, home, database_url).returncode == 0
    records = [
        ("https://example.org/page", "text/html; charset=utf-8", PAGE.format(src="/img/known.png").encode()),
        ("https://example.org/img/known.png", "image/png", KNOWN),
        # The image before the page that shows it: attached all the same.
        ("https://example.org/img/other.png", "image/png", OTHER),
        ("https://example.org/second", "text/html", PAGE.format(src="img/other.png").encode()),
        ("https://example.org/img/loose.jpg", "application/octet-stream", LOOSE),  # no page: own item
        ("https://example.org/img/cut.png", "image/png", truncated(OTHER)),
        ("https://example.org/img/bomb.png", "image/png", png_bomb()),
        ("https://example.org/img/not.png", "image/png", b"placeholder text, not an image"),
        ("https://example.org/style.css", "text/css", b"body { color: black }"),
        ("https://example.org/blob.bin", "application/octet-stream", b"\x00\x01 not media"),
    ]
    path = tmp_path / "site.warc"
    path.write_bytes(warc(records))
    done = run_cli(["scan", "--json", str(path)], home, database_url)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["items"], summary["quarantined"], summary["cases"]) == (3, 3, 1), summary
    reasons = sorted(e["reason"] for e in summary["errors"])
    assert reasons[0].startswith("media https://example.org/img/bomb.png: image too large")
    assert reasons[1].startswith("media https://example.org/img/cut.png: not a readable image")
    assert reasons[2].startswith("media https://example.org/img/not.png: not an image or video by its bytes")

    [case] = store.list_cases()
    page = store.get_item(case.item_id)
    assert page is not None and page.url == "https://example.org/page"
    assert [m.sha256 for m in page.media] == [sha(KNOWN)]
    assert page.meta["warc_media"] == [{"url": "https://example.org/img/known.png", "sha256": sha(KNOWN)}]
    by_url = {}
    for item in store.iter_items():
        by_url[item.url] = item
    assert set(by_url) == {
        "https://example.org/page",
        "https://example.org/second",
        "https://example.org/img/loose.jpg",
    }
    assert [m.sha256 for m in by_url["https://example.org/second"].media] == [sha(OTHER)]
    loose = by_url["https://example.org/img/loose.jpg"]
    assert loose.text == "" and [(m.sha256, m.mime) for m in loose.media] == [(sha(LOOSE), "image/jpeg")]
    assert (home / "media" / sha(KNOWN)[:2] / sha(KNOWN)[2:4] / sha(KNOWN)).read_bytes() == KNOWN

    again = json.loads(run_cli(["scan", "--json", str(path)], home, database_url).stdout)
    assert (again["items"], again["new_items"], again["cases"]) == (3, 0, 0)


def _page(n: int, images: list[str]) -> Item:
    return Item(
        id=f"p{n}",
        source="warc",
        text="t",
        url=f"https://example.org/{n}",
        html="<p>x</p>",
        meta={"images": images},
    )


def _image(url: str, n: int) -> tuple[Media, Item]:
    media = Media(f"{n:064x}", "image/png", 1, url=url, kind="image")
    return media, Item(id=f"i{n}", source="warc", text="", url=url, media=[media])


def test_linker_bounds_held_pages_and_names_released_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warcmedia, "MAX_PENDING_PAGES", 2)
    linker = PageMediaLinker()
    assert linker.page(_page(1, ["https://example.org/a.png"])) == []
    assert linker.page(_page(2, ["https://example.org/b.png"])) == []
    released = linker.page(_page(3, ["https://example.org/c.png"]))
    assert [p.id for p in released] == ["p1"] and released[0].media == []  # let go before its image came
    media, item = _image("https://example.org/a.png", 1)
    [alone] = linker.image("https://example.org/a.png", media, item)
    assert alone.id == "i1" and alone.meta["pages"] == ["https://example.org/1"]
    media, item = _image("https://example.org/b.png", 2)
    [page] = linker.image("https://example.org/b.png", media, item)
    assert page.id == "p2" and page.media == [media]
    media, item = _image("https://example.org/z.png", 3)
    assert linker.image("https://example.org/z.png", media, item) == []  # held: a later page may want it
    assert [i.id for i in linker.finish()] == ["p3", "i3"]
