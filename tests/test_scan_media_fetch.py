"""``vigil scan --fetch-media``: media that X posts and feed entries reference by URL are fetched from a
local server through the guarded PoliteFetcher, stored content-addressed, and hash-matched against a
bank; failures (404, too big, wrong type, SSRF refusals, bad bytes) are recorded on the item with their
reason and the scan goes on; a second scan fetches nothing again. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.media_helpers import drawn, png_bomb, run_cli, truncated
from tests.webserver import LocalWeb, Reply, not_found, redirect, serve
from vigil import boot
from vigil.banks.model import NewEntry
from vigil.banks.service import BankService
from vigil.config import Config
from vigil.core.model import make_item_id
from vigil.hashing.pdq import pdq_of
from vigil.ingest.scan import Scanner
from vigil.ingest.tables import fetched_media
from vigil.sources import samples
from vigil.store import Store

KNOWN, OTHER, VIDEO_POSTER = drawn(0), drawn(1, "JPEG"), drawn(2)
MAX = 200_000
ENV = {
    "VIGIL_ALLOWED_NETWORKS": "127.0.0.1/32",  # the local server; 10/8 and link-local stay refused
    "VIGIL_MEDIA_FETCH_DELAY": "0",
    "VIGIL_MAX_MEDIA_BYTES": str(MAX),
}
IMAGES: dict[str, Reply] = {
    "/img/known.png": (200, {"Content-Type": "image/png"}, KNOWN),
    "/img/other.jpg": (200, {"Content-Type": "image/jpeg"}, OTHER),
    "/img/poster.png": (200, {"Content-Type": "image/png"}, VIDEO_POSTER),
    "/img/huge.png": (200, {"Content-Type": "image/png"}, KNOWN + b"\0" * MAX),
    "/img/page.png": (200, {"Content-Type": "text/html"}, b"<html><body>placeholder</body></html>"),
    "/img/cut.png": (200, {"Content-Type": "image/png"}, truncated(OTHER)),
    "/img/bomb.png": (200, {"Content-Type": "image/png"}, png_bomb()),
    "/img/lies.png": (200, {"Content-Type": "image/png"}, b"GIF? no: plain text pretending"),
}


def route(host: str, path: str, headers: dict[str, str]) -> Reply:
    if path in IMAGES:
        return IMAGES[path]
    if path == "/img/to-metadata.png":
        return redirect("http://169.254.169.254/latest/meta-data/")
    return not_found()


@pytest.fixture
def web() -> Iterator[LocalWeb]:
    with serve(route) as local:
        yield local


def photo_posts(web: LocalWeb, first: int, paths: list[str]) -> dict[str, object]:
    """An X API v2 response: one post per media URL, each with a photo (private URLs taken as they are)."""
    urls = [p if p.startswith("http") else web.url("127.0.0.1", p) for p in paths]
    tweets = [
        {
            "id": str(first + n),
            "text": f"Placeholder post {first + n}.",
            "author_id": "5",
            "attachments": {"media_keys": [f"3_{first + n}"]},
        }
        for n in range(len(urls))
    ]
    media = [{"media_key": f"3_{first + n}", "type": "photo", "url": u} for n, u in enumerate(urls)]
    return samples.v2_response(tweets, [{"id": "5", "username": "example_user"}], media)


def image_requests(web: LocalWeb) -> list[str]:
    return [p for _, p, _ in web.log if p.startswith("/img/")]


def post_id(n: int) -> str:
    return make_item_id("twitter", str(n))


def test_scan_fetches_matches_records_failures_and_does_not_refetch(
    tmp_path: Path, home: Path, store: Store, database_url: str, web: LocalWeb
) -> None:
    (tmp_path / "known.png").write_bytes(KNOWN)
    for args in (
        ["bank", "create", "known-images"],
        ["bank", "add", "known-images", str(tmp_path / "known.png")],
    ):
        done = run_cli(args, home, database_url, ENV)
        assert done.returncode == 0, done.stderr
    paths = [
        "/img/known.png",  # 100: matches the bank
        "/img/other.jpg",  # 101: fetched, no match
        "/img/missing.png",  # 102: 404
        "/img/huge.png",  # 103: over the size limit
        "/img/to-metadata.png",  # 104: redirect to a link-local address
        "http://10.0.0.1/img/internal.png",  # 105: a private address
        "/img/page.png",  # 106: HTML, not an image
        "/img/cut.png",  # 107: truncated JPEG
        "/img/bomb.png",  # 108: 60000x60000 declared
        "/img/lies.png",  # 109: says PNG, is text
    ]
    posts = tmp_path / "posts.json"
    posts.write_text(json.dumps(photo_posts(web, 100, paths)), "utf-8")

    done = run_cli(["scan", "--json", "--fetch-media", str(posts)], home, database_url, ENV)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["items"], summary["new_items"], summary["cases"]) == (10, 10, 1), summary
    assert (summary["media_fetched"], summary["media_cached"], summary["media_failed"]) == (2, 0, 8)
    reasons = {e["reason"].split(": ", 1)[0]: e["reason"] for e in summary["errors"]}
    expected = {
        "/img/missing.png": "HTTP 404",
        "/img/huge.png": f"larger than {MAX} bytes",
        "/img/to-metadata.png": "refused: 169.254.169.254: 169.254.169.254 is a link-local address",
        "http://10.0.0.1/img/internal.png": "refused: 10.0.0.1: 10.0.0.1 is a private address",
        "/img/page.png": "content type text/html not wanted",
        "/img/cut.png": "not a readable image",
        "/img/bomb.png": "image too large",
        "/img/lies.png": "not an image or video by its bytes",
    }
    for path, reason in expected.items():
        url = path if path.startswith("http") else web.url("127.0.0.1", path)
        assert reasons[f"media {url}"].split(": ", 1)[1].startswith(reason), (path, reasons)

    [case] = store.list_cases()
    assert case.item_id == post_id(100) and "hashmatch" in case.meta["detectors"]
    matched = store.get_item(post_id(100))
    assert matched is not None and [m.sha256 for m in matched.media] == [pdq_sha(KNOWN)]
    assert matched.media[0].kind == "image" and matched.media[0].url == web.url("127.0.0.1", paths[0])
    assert matched.meta["media_fetch"][0]["ok"] is True
    refused = store.get_item(post_id(104))
    assert refused is not None and refused.media == []
    [record] = refused.meta["media_fetch"]
    assert record["refused"] is True and record["redirects"][0]["location"].startswith("http://169.254.")
    missing = store.get_item(post_id(102))
    assert missing is not None and missing.meta["media_fetch"][0]["error"] == "HTTP 404"
    media_dir = home / "media"
    assert (media_dir / pdq_sha(KNOWN)[:2] / pdq_sha(KNOWN)[2:4] / pdq_sha(KNOWN)).read_bytes() == KNOWN
    assert store.count("media") == 2  # nothing kept of the refused responses

    # Scanning the same file again: nothing new, nothing fetched.
    before = len(image_requests(web))
    again = json.loads(
        run_cli(["scan", "--json", "--fetch-media", str(posts)], home, database_url, ENV).stdout
    )
    assert (again["new_items"], again["media_fetched"], again["media_failed"]) == (0, 0, 0)
    assert len(image_requests(web)) == before

    # A new post with an image URL fetched before: taken from the content-addressed store, and matched.
    reposts = tmp_path / "reposts.json"
    reposts.write_text(json.dumps(photo_posts(web, 200, ["/img/known.png"])), "utf-8")
    third = json.loads(
        run_cli(["scan", "--json", "--fetch-media", str(reposts)], home, database_url, ENV).stdout
    )
    assert (third["new_items"], third["media_fetched"], third["media_cached"], third["cases"]) == (1, 0, 1, 1)
    assert len(image_requests(web)) == before
    with store.read() as conn:
        cached = conn.execute(select(fetched_media.c.url, fetched_media.c.sha256)).all()
    assert sorted(cached) == sorted(
        [(web.url("127.0.0.1", paths[0]), pdq_sha(KNOWN)), (web.url("127.0.0.1", paths[1]), pdq_sha(OTHER))]
    )


def test_fetching_is_off_by_default(
    tmp_path: Path, home: Path, store: Store, database_url: str, web: LocalWeb
) -> None:
    posts = tmp_path / "posts.json"
    posts.write_text(json.dumps(photo_posts(web, 300, ["/img/known.png", "/img/other.jpg"])), "utf-8")
    done = run_cli(["scan", "--json", str(posts)], home, database_url, ENV)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["new_items"], summary["media_fetched"], summary["media_not_fetched"]) == (2, 0, 2)
    assert web.log == [] and store.count("media") == 0
    item = store.get_item(post_id(300))
    assert item is not None and "media_fetch" not in item.meta
    # The configuration turns it on; the flag turns it off again.
    (home / "config.toml").write_text("fetch_media = true\n", "utf-8")
    more = tmp_path / "more.json"
    more.write_text(json.dumps(photo_posts(web, 400, ["/img/other.jpg"])), "utf-8")
    off = json.loads(
        run_cli(["scan", "--json", "--no-fetch-media", str(more)], home, database_url, ENV).stdout
    )
    assert off["media_not_fetched"] == 1 and web.log == []
    more.write_text(json.dumps(photo_posts(web, 500, ["/img/other.jpg"])), "utf-8")
    on = json.loads(run_cli(["scan", "--json", str(more)], home, database_url, ENV).stdout)
    assert on["media_fetched"] == 1 and image_requests(web) == ["/img/other.jpg"]


def test_feed_enclosures_and_media_rss_are_fetched(store: Store, home: Path, web: LocalWeb) -> None:
    config = Config.load(home, allowed_networks=("127.0.0.1/32",), media_fetch_delay=0.0, max_media_bytes=MAX)
    config.database_url = store.engine.url.render_as_string(hide_password=False)  # the detector opens it
    service = BankService(store, config)
    service.create("known-images")
    service.add("known-images", [NewEntry("pdq", pdq_of(KNOWN).hash, {"label": "placeholder"})])
    other, audio = web.url("127.0.0.1", "/img/other.jpg"), web.url("127.0.0.1", "/audio.mp3")
    known, poster = web.url("127.0.0.1", "/img/known.png"), web.url("127.0.0.1", "/img/poster.png")
    feed = (
        '<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>'
        "<title>Example</title><link>https://example.org/</link>"
        "<item><guid>urn:e1</guid><title>Entry one</title>"
        f'<enclosure url="{other}" type="image/jpeg" length="1"/>'
        f'<enclosure url="{audio}" type="audio/mpeg" length="1"/></item>'
        "<item><guid>urn:e2</guid><title>Entry two</title>"
        f'<media:group><media:content url="{known}" medium="image"/></media:group>'
        f'<media:thumbnail url="{poster}"/></item>'
        "</channel></rss>"
    )
    path = home / "feed.xml"
    path.write_text(feed, "utf-8")
    summary = Scanner(config, store, boot.detectors(config, store), fetch_media=True).scan(str(path))
    assert (summary.items, summary.media_fetched, summary.media_failed, summary.cases) == (2, 3, 0, 1)
    assert "/audio.mp3" not in [p for _, p, _ in web.log]  # an audio enclosure is not an image or video
    [case] = store.list_cases()
    item = store.get_item(case.item_id)
    assert item is not None and item.meta["title"] == "Entry two"
    assert {m.sha256 for m in item.media} == {pdq_sha(KNOWN), pdq_sha(VIDEO_POSTER)}


def pdq_sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
