"""The store contract: one suite, run against SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from vigil.core.model import Account, Case, Item, Media, Origin, Quarantined, Reason, Signal, make_item_id
from vigil.privacy.identities import IdentityGuard
from vigil.store import Store


def _item(n: int, **kw: object) -> Item:
    base: dict[str, object] = {
        "id": make_item_id("test", f"n{n}"),
        "source": "test",
        "text": f"placeholder text {n} — نص عربي",
        "native_id": f"n{n}",
        "account": Account("test", native_id=f"u{n % 3}", handle=f"user{n % 3}"),
        "published": datetime(2026, 1, 1, 12, n % 60, tzinfo=UTC),
        "origin": Origin("file.jsonl", f"line {n}", "jsonl"),
        "meta": {"k": n, "nested": {"a": [1, 2]}},
        "links": [f"https://example.org/{n}"],
    }
    base.update(kw)
    return Item(**base)  # type: ignore[arg-type]


def test_items_round_trip_and_idempotent(store: Store) -> None:
    batch = [_item(i) for i in range(50)]
    assert len(store.add_items(batch)) == 50
    assert store.add_items(batch) == []
    assert store.count("items") == 50
    got = store.get_item(batch[7].id)
    assert got is not None
    assert got.text == batch[7].text
    assert got.published == batch[7].published
    assert got.meta == {"k": 7, "nested": {"a": [1, 2]}}
    # Identities are pseudonymised by default (vigil.privacy): the handle comes back as its pseudonym.
    assert isinstance(store.identities, IdentityGuard)
    assert got.account is not None and got.account.handle == store.identities.handle("test", "user1")
    assert got.account.handle != "user1"
    assert got.links == ["https://example.org/7"]


def test_duplicate_ids_within_a_batch_count_once(store: Store) -> None:
    item = _item(1)
    assert store.add_items([item, item, _item(2)]) == [item.id, _item(2).id]


def test_media_linked_once(store: Store) -> None:
    m = Media("a" * 64, "image/png", 10, name="x.png", kind="image")
    first = _item(1, media=[m])
    second = _item(2, media=[m])
    store.add_items([first, second])
    assert store.count("media") == 1
    got = store.get_item(second.id)
    assert got is not None and [x.sha256 for x in got.media] == ["a" * 64]


def test_signals_upsert_and_cases_one_per_item(store: Store) -> None:
    item = _item(3)
    store.add_items([item])
    sig = Signal(item.id, "det", 0.9, 0.5, [Reason("why", 0, 4, 0.9)], "v1")
    store.add_signals([sig])
    store.add_signals([Signal(item.id, "det", 0.95, 0.5, [], "v2")])
    got = store.signals_for(item.id)
    assert [(s.score, s.version) for s in got] == [(0.95, "v2")]
    first = store.open_cases([Case(None, item.id, score=0.95, title="t")])
    again = store.open_cases([Case(None, item.id, score=0.99, title="t2")])
    assert len(first) == 1 and again == []
    case = store.get_case(first[0])
    assert case is not None and case.state == "new" and case.title == "t"
    assert [c.id for c in store.list_cases(state="new")] == first
    assert store.list_cases(state="dismissed") == []


def test_quarantine_keeps_reason_once(store: Store) -> None:
    bad = [
        Quarantined("f.jsonl", "line 3", "invalid JSON", "{oops"),
        Quarantined("f.jsonl", "line 9", "no text"),
    ]
    assert store.add_quarantined(bad) == 2
    assert store.add_quarantined(bad) == 0
    assert [(q.location, q.reason) for q in store.list_quarantined()] == [
        ("line 3", "invalid JSON"),
        ("line 9", "no text"),
    ]


def test_iter_items_streams_everything(store: Store) -> None:
    store.add_items([_item(i) for i in range(25)])
    assert len({i.id for i in store.iter_items(batch_size=7)}) == 25
