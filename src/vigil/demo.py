"""A small self-made demo corpus: neutral placeholder text in every supported format, a few bad records,
and a watch-list whose placeholder terms the corpus contains, so the whole path runs end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from vigil.config import Config

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
    watchlist = config.resolved_watchlist
    if not watchlist.exists():
        watchlist.parent.mkdir(parents=True, exist_ok=True)
        watchlist.write_text(
            "# vigil watch-list: one term per line, optional weight after a tab.\n"
            "# These are neutral placeholders for the demo; replace them with your own lexicon.\n"
            + "".join(f"{t}\n" for t in WATCH_TERMS),
            encoding="utf-8",
        )
