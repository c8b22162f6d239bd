"""The bulk items insert: values read back as written, oversized fields clipped, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select

from vigil.core.model import Account, Item, Origin, make_item_id
from vigil.store import Store
from vigil.store.schema import items


def _item(n: int, **kw: object) -> Item:
    return Item(id=make_item_id("t", str(n)), source="t", text=f"text {n}", native_id=str(n), **kw)  # type: ignore[arg-type]


def test_round_trip_and_date_comparisons(store: Store) -> None:
    plus2 = timezone(timedelta(hours=2))
    first = _item(
        1,
        published=datetime(2026, 11, 1, 12, 30, 15, 123456, tzinfo=plus2),
        meta={"nested": {"a": [1, 2.5, None]}, "ar": "مرحبا", "flag": True},
        links=["https://example.org/x"],
        account=Account("t", handle="someone", display_name="Some One"),
        origin=Origin("f.jsonl", "line 1", "jsonl"),
    )
    second = _item(2, published=datetime(2026, 11, 2, tzinfo=UTC))
    assert store.add_items([first, second, _item(3)]) == [first.id, second.id, _item(3).id]
    assert store.add_items([first]) == []
    got = store.get_item(first.id)
    assert got is not None
    assert got.published == datetime(2026, 11, 1, 10, 30, 15, 123456, tzinfo=UTC)
    assert got.meta == first.meta and got.links == first.links
    assert got.account == first.account and got.origin is not None and got.origin.location == "line 1"
    none_date = store.get_item(_item(3).id)
    assert none_date is not None and none_date.published is None
    with store.read() as conn:
        later = conn.execute(
            select(items.c.id).where(items.c.published > datetime(2026, 11, 1, 11, tzinfo=UTC))
        ).scalars()
        assert set(later) == {second.id}


def test_oversized_fields_are_clipped_not_fatal(store: Store) -> None:
    big = _item(
        9,
        lang="x" * 100,
        reply_to="r" * 2000,
        forwarded_from="f" * 2000,
        origin=Origin("src", "l" * 1000, "fmt"),
        account=Account("t", native_id="n" * 1000, handle="h" * 1000),
    )
    big.native_id = "id" * 1000
    assert store.add_items([big, _item(10)]) == [big.id, _item(10).id]
    got = store.get_item(big.id)
    assert got is not None and got.lang == "x" * 16 and got.reply_to == "r" * 512
    assert got.native_id is not None and len(got.native_id) == 512
    assert got.origin is not None and len(got.origin.location) == 256
