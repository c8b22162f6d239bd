"""Two writers of the same items at once, on SQLite and PostgreSQL: each item is stored once and counted
as new by exactly one of them, so the writers' ``new_items`` add up to the items stored."""

from __future__ import annotations

import hashlib
import random
import threading

from sqlalchemy import func, select

from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import Account, Item, Media
from vigil.ingest.pipeline import Pipeline
from vigil.store import Store
from vigil.store.schema import item_media

ITEMS = 1200
WRITERS = 3
BATCH = 150


def placeholder(n: int) -> Item:
    account = Account("test", native_id=f"acct-{n % 97}", handle=f"user{n % 97}")
    shared = Media(hashlib.sha256(str(n % 13).encode()).hexdigest(), "image/png", 10, name=f"m{n}.png")
    return Item(
        id=f"t:{n}",
        source="test",
        text=f"a neutral placeholder {n}",
        native_id=str(n),
        account=account,
        media=[shared],
    )


def test_concurrent_writers_count_each_new_item_once(store: Store, config: Config) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    # Each writer has its own store (engine, connections, write lock), as separate processes would.
    writers = [open_store(config, url=url) for _ in range(WRITERS)]
    counts = [0] * WRITERS
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def write(n: int) -> None:
        rng = random.Random(n)
        ids = list(range(ITEMS))
        rng.shuffle(ids)  # overlapping batches, each writer in its own order
        pipeline = Pipeline(writers[n], [], hooks=[])
        try:
            start.wait()
            for at in range(0, ITEMS, BATCH):
                batch = [placeholder(i) for i in ids[at : at + BATCH]]
                counts[n] += pipeline.process(batch + batch[:3]).new_items  # repeats within a batch too
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    for w in writers:
        w.close()
    assert not errors, errors
    assert store.count("items") == ITEMS
    assert sum(counts) == ITEMS
    assert store.count("media") == 13
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(item_media)).scalar_one() == ITEMS
