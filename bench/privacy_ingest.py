"""What pseudonymisation costs on ingestion: ``Store.add_items`` with the identity guard (HMAC pseudonyms,
AES-GCM vault entries) against the same store without it, same process, same items (SQLite, temporary).

    .venv/bin/python bench/privacy_ingest.py [items] [accounts]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import Account, Item, make_item_id
from vigil.privacy.mask import mask_identifiers
from vigil.store import Store
from vigil.store.engine import make_engine
from vigil.store.migrate import upgrade


def items(n: int, accounts: int, tag: str) -> list[Item]:
    return [
        Item(
            id=make_item_id(tag, str(i)),
            source=tag,
            text=f"neutral placeholder text {i}",
            native_id=str(i),
            account=Account("bench", str(i % accounts), f"user_{i % accounts}", f"Name {i % accounts}"),
            channel=Account("bench", None, f"chan_{i % 17}", None, is_channel=True),
            meta={"email": f"p{i % accounts}@example.org"},
        )
        for i in range(n)
    ]


def timed(store: Store, batch: list[Item], size: int = 500) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process): the machine is shared, CPU time is the steadier."""
    start, cpu = time.perf_counter(), time.process_time()
    for k in range(0, len(batch), size):
        store.add_items(batch[k : k + size])
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    accounts = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        config = Config.load(home)
        guarded = open_store(config, url=f"sqlite:///{home / 'guarded.db'}")
        plain_engine = make_engine(f"sqlite:///{home / 'plain.db'}")
        upgrade(plain_engine)
        plain = Store(plain_engine)  # no identity guard: clear handles, the baseline
        timed(guarded, items(200, 50, "warm"))
        timed(plain, items(200, 50, "warm"))
        base = timed(plain, items(n, accounts, "run"))
        with_guard = timed(guarded, items(n, accounts, "run"))
        text = "write to someone@example.org or @someone, call +44 20 7946 0991; " * 4
        start = time.process_time()
        for _ in range(20_000):
            mask_identifiers(text)
        mask_s = time.process_time() - start
        guarded.close()
        plain.close()
    print(f"items={n} accounts={accounts} (+17 channels, 1 e-mail per account), SQLite, batches of 500")
    for label, (wall, cpu) in (("without guard", base), ("with guard   ", with_guard)):
        print(f"add_items {label}: {n / wall:,.0f} items/s wall, {n / cpu:,.0f} items/s CPU")
    wall_ratio, cpu_ratio = with_guard[0] / base[0], with_guard[1] / base[1]
    print(f"ratio with/without: {wall_ratio:.2f}x wall time, {cpu_ratio:.2f}x CPU time")
    print(f"mask_identifiers on a {len(text)}-char text: {20_000 / mask_s:,.0f} texts/s CPU")


if __name__ == "__main__":
    main()
