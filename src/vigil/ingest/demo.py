"""A small self-made demo corpus: neutral placeholder text in every supported format, a few bad records,
and a watch-list whose placeholder terms the corpus contains, so the whole path runs end to end."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

from vigil.config import Config
from vigil.sources import samples

WATCH_TERMS = ("placeholder-watch-term", "example outlet bulletin")

POSTS = [
    ("demo-1", "acct_alpha", "Weather update for the coast: rain expected this afternoon."),
    ("demo-2", "acct_beta", "Repost of the example outlet bulletin number 12, see link."),
    ("demo-3", "acct_alpha", "Community meeting moved to Thursday at the library."),
    ("demo-4", "acct_gamma", "New upload tagged placeholder-watch-term in the channel."),
    ("demo-5", "acct_beta", "Recipe thread: lentil soup with cumin and lemon."),
]


def build_demo_corpus(target: Path, config: Config) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with (target / "posts.jsonl").open("w", encoding="utf-8") as fh:
        for native, account, text in POSTS:
            fh.write(
                json.dumps({"id": native, "account": account, "text": text, "date": "2026-11-01T10:00:00Z"})
                + "\n"
            )
        fh.write('{"id": "demo-broken", "text": "truncated record\n')  # malformed on purpose
        fh.write(json.dumps({"id": "demo-notext", "account": "acct_delta"}) + "\n")  # no text: quarantined
    with (target / "sheet.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "text", "account", "note"])
        writer.writerow(["sheet-1", "Bus timetable changes from Monday.", "acct_epsilon", "neutral"])
        writer.writerow(
            ["sheet-2", "Mirror of the example outlet bulletin posted again.", "acct_zeta", "watch"]
        )
    _write_other_formats(target)
    watchlist = config.resolved_watchlist
    if not watchlist.exists():
        watchlist.parent.mkdir(parents=True, exist_ok=True)
        watchlist.write_text(
            "# vigil watch-list: one term per line, optional weight after a tab.\n"
            "# These are neutral placeholders for the demo; replace them with your own lexicon.\n"
            + "".join(f"{t}\n" for t in WATCH_TERMS),
            encoding="utf-8",
        )


def _write_other_formats(target: Path) -> None:
    """One small file (or folder) per remaining format, each with a bad record or two among good ones."""
    term = WATCH_TERMS[0]
    messages = [
        samples.telegram_message(1, "Channel notice: the archive is moving to a new address."),
        samples.telegram_message(
            2,
            [
                "Mirror of the ",
                {"type": "text_link", "text": "example outlet bulletin", "href": "https://example.org/b"},
            ],
        ),
        samples.telegram_message(3, "Photo of the harbour at dawn.", photo="photos/photo_1.jpg"),
        {"type": "message", "text": "a message without an id"},  # quarantined
    ]
    samples.write_telegram_export(
        target / "telegram_export",
        [samples.telegram_chat("Example Channel", 1000000001, messages)],
        {"photos/photo_1.jpg": samples.png(48, 32, (200, 120, 40))},
    )
    response = samples.v2_response(
        [
            {"id": "7001", "text": "Train delays on the northern line.", "author_id": "42", "lang": "en"},
            {"id": "7002", "text": f"Thread about {term} uploads.", "author_id": "42", "lang": "en"},
            {"id": "7003", "author_id": "42"},  # no text: quarantined
        ],
        [{"id": "42", "username": "example_commuter", "name": "Example Commuter"}],
    )
    (target / "tweets.json").write_text(json.dumps(response, indent=2), "utf-8")
    entries = [
        {"title": "Library opening hours", "guid": "urn:demo:1", "description": "<p>Open <b>daily</b>.</p>"},
        {"title": "Example outlet bulletin digest", "guid": "urn:demo:2", "description": "Weekly digest."},
        {"link": "https://example.org/empty"},  # neither title nor content: quarantined
    ]
    (target / "feed.xml").write_text(
        samples.rss("Example Bulletin", "https://example.org/", entries), "utf-8"
    )
    page = (
        "<html><body><article><h1>Harbour festival</h1><p>Boats, music and food stalls along the quay "
        "this weekend; the programme is on the notice board. {extra}</p></article></body></html>"
    )
    pages = [
        ("https://example.org/festival", page.format(extra="")),
        ("https://example.org/tagged", page.format(extra=term)),
    ]
    (target / "pages.warc.gz").write_bytes(samples.warc_bytes(pages, gzip=True))
    letters = [
        samples.email_message(
            "Neighbourhood newsletter",
            "Example Desk <desk@example.org>",
            text="Street party on Saturday; bring a chair.",
            message_id="<demo-1@example.org>",
            date=datetime(2026, 11, 1, tzinfo=UTC),
            attachment=("map.png", "image/png", samples.png(24, 24, (30, 30, 160))),
        ),
        b"this is not an e-mail message\n",  # quarantined
    ]
    (target / "newsletters.mbox").write_bytes(samples.mbox(letters))
    (target / "loose_picture.png").write_bytes(samples.png(64, 48, (20, 160, 90)))


GUIDE = """what to look at:
  - the quarantined records above: each with its file, where in it and why
    (a truncated JSON line, a record without text, a Telegram message without id,
    a tweet without text, an empty feed entry, a message that is not an e-mail);
  - the cases the watch-list opened; edit {watchlist} and scan again;
  - media stored by SHA-256 under {media}
    (the Telegram photo, the mail attachment, the loose picture);
  - vigil scan --json {corpus}
    reports new_items 0 the second time: ingestion is idempotent."""
