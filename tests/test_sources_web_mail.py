"""RSS/Atom feeds, WARC(.gz), mbox/.eml and loose media files: fields mapped, hostile input contained."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.core.model import Item, Quarantined
from vigil.sources import samples
from vigil.sources.base import SourceContext
from vigil.sources.discover import choose, discover, sources
from vigil.sources.feed import FeedSource
from vigil.sources.mail import EmlSource, MboxSource
from vigil.sources.mediafile import MediaFileSource
from vigil.sources.warc import WarcSource
from vigil.store.media import MediaSink

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PAGE = (
    "<html><head><title>Sample page</title><script>var x = 1;</script></head><body>"
    "<nav><a href='/home'>Home</a></nav><article><h1>Placeholder headline</h1>"
    "<p>The first paragraph of neutral placeholder text about a town library and its opening hours, "
    "long enough for main-text extraction to keep it.</p><p>A second paragraph mentions a "
    "<a href='https://example.org/out'>related notice</a> and shows <img src='/img/a.png'>.</p>"
    "</article></body></html>"
)


def _ctx(tmp_path: Path, **kw: int) -> SourceContext:
    return SourceContext(media=MediaSink(tmp_path / "media"), **kw)


def _split(records: list[Item | Quarantined]) -> tuple[list[Item], list[Quarantined]]:
    return [r for r in records if isinstance(r, Item)], [r for r in records if isinstance(r, Quarantined)]


def _name(path: Path) -> str | None:
    return getattr(choose(path, sources()), "name", None)


# ---- feeds -------------------------------------------------------------------------------------------


def test_rss_items_html_and_missing_fields(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_text(
        samples.rss(
            "Example Bulletin",
            "https://example.org/",
            [
                {
                    "title": "First notice",
                    "link": "https://example.org/1",
                    "guid": "urn:ex:1",
                    "description": "<p>Opening <b>hours</b> changed. <a href='/more'>more</a></p>",
                    "pubDate": "Sun, 01 Nov 2026 10:00:00 +0000",
                    "author": "desk@example.org",
                },
                {"title": "Second notice", "description": "plain text only"},
                {"link": "https://example.org/empty"},
            ],
        ),
        "utf-8",
    )
    assert _name(path) == "feed"
    items, bad = _split(list(FeedSource().read(path, _ctx(tmp_path))))
    first, second = items
    assert first.text == "First notice\n\nOpening hours changed. more" and first.html is not None
    assert first.links == ["https://example.org/more"] and first.url == "https://example.org/1"
    assert (
        first.published == datetime(2026, 11, 1, 10, tzinfo=UTC) and first.meta["feed"] == "Example Bulletin"
    )
    assert (
        second.native_id is None and second.text == "Second notice\n\nplain text only" and second.html is None
    )
    assert [(q.location, q.reason) for q in bad] == [
        ("entry 3", "entry has neither a title, nor content, nor media")
    ]


def test_atom_entries(tmp_path: Path) -> None:
    path = tmp_path / "atom.feed"
    path.write_text(
        samples.atom(
            "Example Atom",
            "urn:feed:1",
            [
                {
                    "id": "urn:entry:1",
                    "title": "Atom one",
                    "link": "https://example.org/a1",
                    "updated": "2026-11-02T08:00:00Z",
                    "author": "Example Desk",
                    "content": "<div>Body <img src='https://example.org/i.png'></div>",
                }
            ],
        ),
        "utf-8",
    )
    assert _name(path) == "feed"
    (item,) = list(FeedSource().read(path, _ctx(tmp_path)))
    assert isinstance(item, Item) and item.text == "Atom one\n\nBody" and item.url == "https://example.org/a1"
    assert item.meta["images"] == ["https://example.org/i.png"] and item.account is not None
    assert item.account.handle == "Example Desk" and item.native_id == "urn:feed:1|urn:entry:1"


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<rss version="2.0"><channel><title>t</title><item><title>&d;</title></item></channel></rss>"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY ext SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title><item><title>&ext;</title></item></channel></rss>"""


def test_hostile_feeds_are_reported_not_crashed(tmp_path: Path) -> None:
    for name, body in (("laughs.xml", BILLION_LAUGHS), ("ext.xml", EXTERNAL)):
        path = tmp_path / name
        path.write_text(body, "utf-8")
        records = list(FeedSource().read(path, _ctx(tmp_path)))
        assert len(records) == 1 and isinstance(records[0], Quarantined)
        assert records[0].reason.startswith("refused unsafe XML") and "root:" not in str(records)


def test_truncated_feed_keeps_earlier_entries(tmp_path: Path) -> None:
    body = samples.rss("T", "https://example.org/", [{"title": f"n{i}", "guid": f"g{i}"} for i in range(5)])
    path = tmp_path / "cut.rss"
    path.write_text(body[: body.index("<item><title>n3")] + "<item><title>n3", "utf-8")
    items, bad = _split(list(FeedSource().read(path, _ctx(tmp_path))))
    # The entry cut in half is recovered by the lenient parser (as feedparser's loose parser does) and
    # flagged; the break itself is quarantined with where it is.
    assert [i.text for i in items] == ["n0", "n1", "n2", "n3"] and bad[0].reason.startswith(
        "malformed XML after 3"
    )
    assert "xml_recovered" in items[3].meta and "xml_recovered" not in items[2].meta
    assert bad[0].reason.endswith("1 more entries recovered by the lenient parser")


@FUZZ
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["title", "link", "guid", "description", "pubDate"]), st.text(max_size=40)
        ),
        max_size=6,
    )
)
def test_feed_fuzz_every_entry_accounted(tmp_path: Path, entries: list[dict[str, str]]) -> None:
    path = tmp_path / "f.xml"
    clean = [{k: "".join(c for c in v if c.isprintable()) for k, v in e.items()} for e in entries]
    path.write_text(samples.rss("F", "https://example.org/", clean), "utf-8")
    records = list(FeedSource().read(path, _ctx(tmp_path)))
    assert len(records) == len(entries) and all(isinstance(r, Item | Quarantined) for r in records)


@FUZZ
@given(st.binary(max_size=400))
def test_feed_fuzz_garbage(tmp_path: Path, junk: bytes) -> None:
    path = tmp_path / "g.xml"
    path.write_bytes(b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>x</title></item>' + junk)
    records = list(FeedSource().read(path, _ctx(tmp_path)))
    assert all(isinstance(r, Item | Quarantined) for r in records) and records


# ---- WARC --------------------------------------------------------------------------------------------


def test_warc_and_warc_gz(tmp_path: Path) -> None:
    pages = [
        ("https://example.org/p1", PAGE),
        ("https://example.org/p2", PAGE.replace("headline", "title two")),
    ]
    for name, gz in (("a.warc", False), ("a.warc.gz", True)):
        path = tmp_path / name
        path.write_bytes(samples.warc_bytes(pages, gzip=gz))
        assert _name(path) == "warc"
        items, bad = _split(list(WarcSource().read(path, _ctx(tmp_path))))
        assert bad == [] and [i.url for i in items] == ["https://example.org/p1", "https://example.org/p2"]
        assert "first paragraph of neutral placeholder" in items[0].text and "var x" not in items[0].text
        assert "https://example.org/out" in items[0].links and items[0].meta["images"] == [
            "https://example.org/img/a.png"
        ]
        assert items[0].native_id and items[0].native_id.startswith("<urn:uuid:") and items[0].html


def test_warc_truncated_record(tmp_path: Path) -> None:
    data = samples.warc_bytes([("https://example.org/p1", PAGE), ("https://example.org/p2", PAGE)])
    path = tmp_path / "cut.warc"
    path.write_bytes(data[:-200])
    items, bad = _split(list(WarcSource().read(path, _ctx(tmp_path))))
    assert [i.url for i in items] == ["https://example.org/p1"]
    assert len(bad) == 1 and "truncated" in bad[0].reason and "<urn:uuid:" in bad[0].location


def test_warc_gz_bomb_is_stopped(tmp_path: Path) -> None:
    good = samples.warc_bytes([("https://example.org/p1", PAGE)], gzip=True)
    header = (
        b"WARC/1.0\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:bomb>\r\n"
        b"Content-Type: application/octet-stream\r\nContent-Length: 12000000\r\n\r\n"
    )
    bomb = samples.gzip_member(header + b"\0" * 12_000_000 + b"\r\n\r\n")
    path = tmp_path / "bomb.warc.gz"
    path.write_bytes(good + bomb)
    assert path.stat().st_size < 200_000
    items, bad = _split(list(WarcSource().read(path, _ctx(tmp_path, max_decompressed_bytes=2_000_000))))
    assert len(items) == 1 and len(bad) == 1 and "exceeds 2000000 bytes" in bad[0].reason


@FUZZ
@given(st.integers(0, 3000), st.binary(max_size=50))
def test_warc_fuzz_cut_and_garbage(tmp_path: Path, cut: int, junk: bytes) -> None:
    data = samples.warc_bytes([("https://example.org/p1", PAGE), ("https://example.org/p2", PAGE)])
    path = tmp_path / "f.warc"
    path.write_bytes(data[: min(cut, len(data))] + junk)
    records = list(WarcSource().read(path, _ctx(tmp_path)))
    assert all(isinstance(r, Item | Quarantined) for r in records) and len(records) <= 3


# ---- e-mail -------------------------------------------------------------------------------------------


def test_mbox_messages_attachments_and_bad_ones(tmp_path: Path) -> None:
    png = samples.png()
    msgs = [
        samples.email_message(
            "Weekly letter",
            "Example Desk <desk@example.org>",
            text="Plain part of the letter.\nFrom the editors.",
            html="<p>HTML part with <a href='https://example.org/x'>a link</a>.</p>",
            message_id="<m1@example.org>",
            date=datetime(2026, 11, 1, 10, tzinfo=UTC),
            attachment=("chart.png", "image/png", png),
        ),
        samples.email_message(
            "HTML only", "b@example.org", html="<p>Only <i>html</i> here.</p>", message_id="<m2@example.org>"
        ),
        b"just some words with no headers at all\n",
    ]
    path = tmp_path / "letters.mbox"
    path.write_bytes(samples.mbox(msgs))
    assert _name(path) == "mbox"
    items, bad = _split(list(MboxSource().read(path, _ctx(tmp_path))))
    first, second = items
    assert first.native_id == "m1@example.org" and first.text.startswith("Weekly letter\n\nPlain part")
    assert "From the editors." in first.text and first.links == ["https://example.org/x"]
    assert first.account is not None and first.account.handle == "desk@example.org"
    assert first.published == datetime(2026, 11, 1, 10, tzinfo=UTC)
    assert [(m.name, m.kind, m.size) for m in first.media] == [("chart.png", "image", len(png))]
    assert second.text == "HTML only\n\nOnly html here." and second.html is not None
    assert [q.location.split(" at ")[0] for q in bad] == ["message 3"] and "not an e-mail" in bad[0].reason


def test_eml_single_message(tmp_path: Path) -> None:
    path = tmp_path / "note.eml"
    path.write_bytes(
        samples.email_message("Note", "c@example.org", text="Body text.", message_id="<n@example.org>")
    )
    assert _name(path) == "eml"
    (item,) = list(EmlSource().read(path, _ctx(tmp_path)))
    assert isinstance(item, Item) and item.text == "Note\n\nBody text." and item.meta["subject"] == "Note"


def test_mbox_oversized_message(tmp_path: Path) -> None:
    msgs = [
        samples.email_message("Big", "a@example.org", text="x" * 5000),
        samples.email_message("Small", "a@example.org", text="ok"),
    ]
    path = tmp_path / "m.mbox"
    path.write_bytes(samples.mbox(msgs))
    items, bad = _split(list(MboxSource().read(path, _ctx(tmp_path, max_record_bytes=2000))))
    assert [i.text for i in items] == ["Small\n\nok"] and "longer than 2000" in bad[0].reason


@FUZZ
@given(st.lists(st.binary(max_size=200), min_size=1, max_size=5))
def test_mbox_fuzz_every_message_accounted(tmp_path: Path, bodies: list[bytes]) -> None:
    path = tmp_path / "f.mbox"
    path.write_bytes(samples.mbox(bodies))
    records = list(MboxSource().read(path, _ctx(tmp_path)))
    assert len(records) == len(bodies) and all(isinstance(r, Item | Quarantined) for r in records)


# ---- loose media ---------------------------------------------------------------------------------------


def test_loose_media_file(tmp_path: Path) -> None:
    path = tmp_path / "pic.dat"
    path.write_bytes(samples.png())
    assert _name(path) == "media"
    (item,) = list(MediaFileSource().read(path, _ctx(tmp_path)))
    assert isinstance(item, Item) and item.media[0].kind == "image" and item.media[0].mime == "image/png"
    assert item.text == "" and item.native_id == item.media[0].sha256
    assert (tmp_path / "media" / item.media[0].sha256[:2]).is_dir()
    big = list(MediaFileSource().read(path, _ctx(tmp_path, max_file_bytes=10)))
    assert isinstance(big[0], Quarantined) and "larger than 10" in big[0].reason


# ---- wrong encodings and more fuzz --------------------------------------------------------------------


def test_wrong_encodings_are_quarantined_with_place(tmp_path: Path) -> None:
    from vigil.sources.telegram import TelegramSource
    from vigil.sources.twitter import TwitterSource

    folder = tmp_path / "tg"
    folder.mkdir()
    (folder / "result.json").write_bytes(
        b'{"name": "C", "type": "public_channel", "id": 1, "messages": ['
        b'{"id": 1, "type": "message", "text": "ok"}, {"id": 2, "type": "message", "text": "caf\xe9"}]}'
    )
    items, bad = _split(list(TelegramSource().read(folder, _ctx(tmp_path))))
    assert [i.native_id for i in items] == ["1:1"] and "after message 1" in bad[0].location
    assert "invalid bytes in UTF8" in bad[0].reason
    lines = tmp_path / "t.jsonl"
    lines.write_bytes(
        b'{"id_str": "1", "full_text": "a", "user": {"screen_name": "x"}}\n'
        b'{"id_str": "2", "full_text": "\xff"}\n'
    )
    items, bad = _split(list(TwitterSource().read(lines, _ctx(tmp_path))))
    assert [i.native_id for i in items] == ["1"] and bad[0].location == "line 2" and "UTF-8" in bad[0].reason
    latin = tmp_path / "latin.xml"
    latin.write_bytes(
        b'<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>caf\xe9</title></item></channel></rss>"
    )
    (item,) = list(FeedSource().read(latin, _ctx(tmp_path)))
    assert isinstance(item, Item) and item.text == "café"
    broken = tmp_path / "broken.xml"  # declares UTF-8, is Latin-1: read as Windows-1252, and said so
    broken.write_bytes(latin.read_bytes().replace(b"ISO-8859-1", b"UTF-8"))
    (read,) = list(FeedSource().read(broken, _ctx(tmp_path)))
    assert isinstance(read, Item) and read.text == "café"
    assert read.meta["encoding"] == "declared 'UTF-8' does not fit the bytes: read as cp1252"


@FUZZ
@given(st.binary(max_size=600))
def test_eml_fuzz_one_record_per_file(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "x.eml"
    path.write_bytes(data)
    records = list(EmlSource().read(path, _ctx(tmp_path)))
    assert len(records) == 1 and isinstance(records[0], Item | Quarantined)


@FUZZ
@given(
    st.sampled_from([b"\x89PNG\r\n\x1a\n", b"%PDF-", b"\xff\xd8\xff", b"OggS", b"junk"]),
    st.binary(max_size=200),
)
def test_media_fuzz_one_record_per_file(tmp_path: Path, magic: bytes, rest: bytes) -> None:
    path = tmp_path / "m.bin"
    path.write_bytes(magic + rest)
    records = list(MediaFileSource().read(path, _ctx(tmp_path)))
    assert len(records) == 1
    assert isinstance(records[0], Item) == (magic != b"junk")


def test_html_helpers_on_xhtml_and_junk() -> None:
    from vigil.sources.html import html_to_text, links_and_images

    xhtml = '<?xml version="1.0" encoding="utf-8"?><html><body><p>Hi <a href="/a">there</a></p></body></html>'
    assert html_to_text(xhtml) == "Hi there"
    assert links_and_images(xhtml, "https://example.org/") == (["https://example.org/a"], [])
    assert html_to_text("") == "" and html_to_text("<?xml version='1.0'?>") == ""
    assert links_and_images('<a href="javascript:x()">x</a><img src="data:,">') == ([], [])


@FUZZ
@given(st.text(max_size=300))
def test_html_helpers_never_raise(tmp_path: Path, html: str) -> None:
    from vigil.sources.html import html_to_text, links_and_images

    assert isinstance(html_to_text(html), str)
    links, images = links_and_images(html, "https://example.org/")
    assert all(u.startswith(("http://", "https://")) for u in links + images)


def test_format_forces_every_file_of_a_folder(tmp_path: Path) -> None:
    """``--format`` on a folder reads each file in that format, as the docs say, sniffed or not."""
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("Subject: first placeholder\n\nbody one\n", "utf-8")
    (folder / "b.data").write_text("Subject: second placeholder\n\nbody two\n", "utf-8")
    (folder / ".hidden").write_text("Subject: hidden\n\n", "utf-8")
    assert [t.source for t in discover(folder)] == [None, None]  # nothing to sniff: only one header
    tasks = list(discover(folder, "eml"))
    assert [(t.path.name, getattr(t.source, "name", None)) for t in tasks] == [
        ("a.txt", "eml"),
        ("b.data", "eml"),
    ]
    read = [r for t in tasks for r in t.source.read(t.path, _ctx(tmp_path))]  # type: ignore[union-attr]
    assert [r.meta["subject"] for r in read if isinstance(r, Item)] == [
        "first placeholder",
        "second placeholder",
    ]
