"""Acceptance: ``vigil scan DIR --json`` over every format at once, with bad records among good ones,
on SQLite and on PostgreSQL (``VIGIL_DATABASE_URL``); and a feed fetched from a local HTTP server."""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vigil import boot
from vigil.config import Config
from vigil.ingest.scan import Scanner
from vigil.sources import samples
from vigil.store import Store

WATCH = "placeholder-watch-term"
PAGE = (
    "<html><body><article><h1>Library notice</h1><p>Neutral placeholder paragraph about opening hours of "
    "the town library, long enough to be the main text of the page. {extra}</p>"
    "<p><a href='https://example.org/next'>next</a></p></article></body></html>"
)


def build_mixed_corpus(root: Path) -> None:
    """Every format, valid records and malformed ones; the expected counts are in the test below."""
    root.mkdir()
    # JSON Lines: 3 items, 1 quarantined (truncated JSON); 1 watch-list hit.
    (root / "posts.jsonl").write_text(
        json.dumps({"id": "p1", "text": "Weather update for the coast."})
        + "\n"
        + json.dumps({"id": "p2", "text": f"Upload tagged {WATCH} today."})
        + '\n{"id": "p3", "text": "trunc\n'
        + json.dumps({"id": "p4", "text": "Bus timetable changes."})
        + "\n",
        "utf-8",
    )
    # CSV: 2 items, 1 quarantined (ragged row).
    (root / "sheet.csv").write_text(
        "id,text,who\ns1,Market opens at nine,a\ns2,Road works,b\ns3,ragged\n", "utf-8"
    )
    # Telegram export: 3 items (one with a photo, one with entity text and a hit), 1 quarantined (no id).
    msgs = [
        samples.telegram_message(1, "Channel placeholder message."),
        samples.telegram_message(
            2, ["Look at ", {"type": "text_link", "text": WATCH, "href": "https://example.org/t"}]
        ),
        samples.telegram_message(3, "Photo post.", photo="photos/photo_1.jpg"),
        {"type": "message", "text": "message without id"},
    ]
    samples.write_telegram_export(
        root / "tg_export",
        [samples.telegram_chat("Example Channel", 1000000001, msgs)],
        {"photos/photo_1.jpg": samples.png()},
    )
    # X/Twitter v2 response: 2 items, 1 quarantined (no text).
    v2 = samples.v2_response(
        [
            {
                "id": "901",
                "text": "Placeholder post one.",
                "author_id": "5",
                "edit_history_tweet_ids": ["901"],
            },
            {
                "id": "902",
                "text": "Placeholder post two.",
                "author_id": "5",
                "edit_history_tweet_ids": ["902"],
            },
            {"id": "903", "author_id": "5", "edit_history_tweet_ids": ["903"]},
        ],
        [{"id": "5", "username": "example_user", "name": "Example"}],
    )
    (root / "tweets_v2.json").write_text(json.dumps(v2, indent=2), "utf-8")
    # X/Twitter v1.1, one per line: 2 items, 1 quarantined (broken line).
    (root / "tweets_v1.jsonl").write_text(
        json.dumps(samples.tweet_v1(801, "Old API placeholder.", "example_old"))
        + "\n{not json\n"
        + json.dumps(samples.tweet_v1(802, "Second old API placeholder.", "example_old"))
        + "\n",
        "utf-8",
    )
    # RSS: 2 items (one hit), 1 quarantined (empty entry). Atom: 1 item. Billion laughs: 1 quarantined.
    rss_items = [
        {"title": "Notice one", "guid": "urn:n1", "description": "<p>First <b>notice</b>.</p>"},
        {"title": "Notice two", "guid": "urn:n2", "description": f"Mentions {WATCH}."},
        {"link": "https://example.org/empty"},
    ]
    (root / "feed.xml").write_text(
        samples.rss("Example Bulletin", "https://example.org/", rss_items), "utf-8"
    )
    (root / "atom.xml").write_text(
        samples.atom(
            "Example Atom", "urn:feed:a", [{"id": "urn:a1", "title": "Atom entry", "content": "<p>Body</p>"}]
        ),
        "utf-8",
    )
    (root / "laughs.xml").write_text(
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        '<rss version="2.0"><channel><item><title>&b;</title></item></channel></rss>',
        "utf-8",
    )
    # WARC.gz: 2 items (one hit), then a gzip bomb: 1 quarantined. Truncated WARC: 1 item, 1 quarantined.
    good = samples.warc_bytes(
        [
            ("https://example.org/w1", PAGE.format(extra="")),
            ("https://example.org/w2", PAGE.format(extra=WATCH)),
        ],
        gzip=True,
    )
    bomb = samples.gzip_member(
        b"WARC/1.0\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:bomb>\r\n"
        b"Content-Length: 12000000\r\n\r\n" + b"\0" * 12_000_000
    )
    (root / "site.warc.gz").write_bytes(good + bomb)
    cut = samples.warc_bytes(
        [
            ("https://example.org/c1", PAGE.format(extra="c1")),
            ("https://example.org/c2", PAGE.format(extra="c2")),
        ]
    )
    (root / "cut.warc").write_bytes(cut[:-100])
    # mbox: 2 items (one with an attachment, one hit), 1 quarantined (no headers). .eml: 1 item.
    letters = [
        samples.email_message(
            "Weekly letter",
            "desk@example.org",
            text="Plain newsletter body.",
            message_id="<l1@example.org>",
            date=datetime(2026, 11, 1, tzinfo=UTC),
            attachment=("chart.png", "image/png", samples.png(20, 20)),
        ),
        samples.email_message(
            "Second letter", "desk@example.org", html=f"<p>{WATCH} in html</p>", message_id="<l2@example.org>"
        ),
        b"no headers here at all\n",
    ]
    (root / "letters.mbox").write_bytes(samples.mbox(letters))
    (root / "note.eml").write_bytes(
        samples.email_message("Note", "c@example.org", text="Short note.", message_id="<e1@example.org>")
    )
    # A loose image: 1 item with its media. An unknown binary: an error, not a record.
    (root / "picture.png").write_bytes(samples.png(40, 30, (10, 200, 10)))
    (root / "notes.bin").write_bytes(b"\x00\x01\x02\x03")


EXPECTED = {"items": 22, "new_items": 22, "quarantined": 10, "detections": 5, "cases": 5}
EXPECTED_BAD = {
    ("posts.jsonl", "invalid JSON"),
    ("sheet.csv", "2 fields where the header has 3"),
    ("result.json", "message has no id"),
    ("tweets_v2.json", "tweet has no text"),
    ("tweets_v1.jsonl", "invalid JSON"),
    ("feed.xml", "entry has neither a title, nor content, nor media"),
    ("laughs.xml", "refused unsafe XML"),
    ("site.warc.gz", "decompressed size exceeds 5000000 bytes (gzip bomb?)"),
    ("cut.warc", "record truncated"),
    ("letters.mbox", "not an e-mail message"),
    ("notes.bin", "unrecognised format"),
}


def _run(args: list[str], home: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIGIL_HOME": str(home), "VIGIL_MAX_DECOMPRESSED_BYTES": "5000000"}
    env.pop("VIGIL_DATABASE_URL", None)
    if not database_url.startswith("sqlite"):
        env["VIGIL_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "vigil", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_mixed_folder_exact_counts_then_idempotent(
    tmp_path: Path, home: Path, store: Store, database_url: str
) -> None:
    (home / "watchlist.txt").write_text(f"{WATCH}\n", "utf-8")
    corpus = tmp_path / "corpus"
    build_mixed_corpus(corpus)
    first = _run(["scan", "--json", str(corpus)], home, database_url)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert {k: summary[k] for k in EXPECTED} == EXPECTED, summary["errors"]
    found = {(Path(e["source"]).name, e["reason"]) for e in summary["errors"]}
    assert len(summary["errors"]) == len(EXPECTED_BAD)
    for name, reason in EXPECTED_BAD:
        assert any(n == name and r.startswith(reason) for n, r in found), (name, reason, found)
    assert all(e["location"] for e in summary["errors"] if Path(e["source"]).name != "notes.bin")
    # The Telegram photo is attached to its message and not scanned again as a loose file.
    assert store.count("items") == 22 and store.count("quarantine") == 10 and store.count("cases") == 5
    assert store.count("media") == 3  # Telegram photo, mail attachment, loose picture
    second = json.loads(_run(["scan", "--json", str(corpus)], home, database_url).stdout)
    assert (
        second["new_items"] == 0
        and second["items"] == 22
        and second["cases"] == 0
        and second["detections"] == 0
    )
    assert store.count("items") == 22 and store.count("quarantine") == 10


@pytest.fixture
def http_folder(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    folder = tmp_path / "www"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))

    class Quiet(http.server.ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass

    server = Quiet(("127.0.0.1", 0), handler)
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_feed_url_fetched_from_local_server(
    store: Store, config: Config, http_folder: tuple[str, Path]
) -> None:
    base, folder = http_folder
    items = [
        {"title": f"Remote notice {i}", "guid": f"urn:r{i}", "link": f"https://example.org/r{i}"}
        for i in range(3)
    ]
    (folder / "feed.xml").write_text(samples.rss("Remote", "https://example.org/", items), "utf-8")
    config = Config.load(config.home, allow_private_addresses=True)  # 127.0.0.1: refused by default
    scanner = Scanner(config, store, boot.detectors(config, store))
    summary = scanner.scan(f"{base}/feed.xml")
    assert (summary.items, summary.new_items, summary.quarantined, summary.errors) == (3, 3, 0, [])
    missing = scanner.scan(f"{base}/absent.xml")
    assert missing.items == 0 and missing.errors[0]["reason"] == "HTTP 404"
    again = scanner.scan(f"{base}/feed.xml")
    assert again.new_items == 0 and store.count("items") == 3


def test_demo_corpus_covers_every_format_and_rescans_to_nothing(
    tmp_path: Path, store: Store, config: Config
) -> None:
    from sqlalchemy import select

    from vigil.ingest.demo import build_demo_corpus
    from vigil.store.schema import items

    build_demo_corpus(tmp_path / "demo", config)
    scanner = Scanner(config, store, boot.detectors(config, store))
    first = scanner.scan(str(tmp_path / "demo"))
    assert (first.items, first.new_items, first.quarantined) == (18, 18, 6) and first.cases == 7
    with store.read() as conn:
        kinds = set(conn.execute(select(items.c.source).distinct()).scalars())
    assert kinds == {"jsonl", "csv", "telegram", "twitter", "feed", "warc", "mbox", "media"}
    build_demo_corpus(tmp_path / "demo", config)  # written again: same records, same ids
    again = scanner.scan(str(tmp_path / "demo"))
    assert (again.items, again.new_items, again.cases) == (18, 0, 0)
