"""Media fetched by URL: X v2 posts with one photo each, served by a local HTTP server, through the real
Scanner with ``fetch_media`` on (SQLite, the hash-match detector with a bank of one entry), then the
same posts re-scanned into a fresh store (every URL found in ``fetched_media``, nothing fetched).

    .venv/bin/python bench/media_fetch.py            # 300 posts, 320x240 PNGs
    .venv/bin/python bench/media_fetch.py --posts 50

The per-host delay is 0 here (one local host); with the default ``media_fetch_delay`` of 0.25 s a
single host gives at most 4 fetches a second whatever the machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.media_helpers import drawn
from tests.webserver import serve

from vigil import boot
from vigil.banks.model import NewEntry
from vigil.banks.service import BankService
from vigil.boot import open_store
from vigil.config import Config
from vigil.hashing.pdq import pdq_of
from vigil.ingest.scan import Scanner
from vigil.sources import samples
from vigil.store import Store


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=300)
    args = parser.parse_args()
    images = {f"/img/{n}.png": drawn(n) for n in range(args.posts)}
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve(
            lambda h, p, hd: (
                (200, {"Content-Type": "image/png"}, images[p]) if p in images else (404, {}, b"")
            )
        ) as web,
    ):
        tweets = [
            {
                "id": str(n),
                "text": f"Placeholder {n}.",
                "author_id": "5",
                "attachments": {"media_keys": [str(n)]},
            }
            for n in range(args.posts)
        ]
        media = [
            {"media_key": str(n), "type": "photo", "url": web.url("127.0.0.1", f"/img/{n}.png")}
            for n in range(args.posts)
        ]
        posts = Path(tmp) / "posts.json"
        posts.write_text(json.dumps(samples.v2_response(tweets, [{"id": "5", "username": "u"}], media)))
        for run in ("fetch", "cached"):
            home = Path(tmp) / "home"
            home.mkdir(exist_ok=True)
            config = Config.load(home, allowed_networks=("127.0.0.1/32",), media_fetch_delay=0.0)
            config.database_url = f"sqlite:///{home / f'{run}.db'}"
            store = open_store(config)
            service = BankService(store, config)
            service.create("b")
            service.add("b", [NewEntry("pdq", pdq_of(images["/img/0.png"]).hash, {})])
            if run == "cached":  # the fetched_media rows of the first run, in the new store
                from vigil.ingest.tables import fetched_media

                old = Store.open(url=f"sqlite:///{home / 'fetch.db'}")
                with old.read() as conn:
                    rows = [dict(r) for r in conn.execute(fetched_media.select()).mappings()]
                with store.write() as conn:
                    conn.execute(fetched_media.insert(), rows)
                old.close()
            start = time.perf_counter()
            summary = Scanner(config, store, boot.detectors(config, store), fetch_media=True).scan(str(posts))
            took = time.perf_counter() - start
            store.close()
            print(
                f"{run:7s} {args.posts} posts in {took:.2f} s ({args.posts / took:.0f} posts/s): "
                f"fetched {summary.media_fetched}, already fetched {summary.media_cached}, "
                f"failed {summary.media_failed}, cases {summary.cases}"
            )


if __name__ == "__main__":
    main()
