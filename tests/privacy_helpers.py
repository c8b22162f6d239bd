"""Shared by the privacy tests: items carrying clear identifiers (neutral placeholders), and the CLI
run in-process against the ``store`` fixture's database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from vigil.cli import build_app
from vigil.core.model import Account, Case, Item, Media, make_item_id
from vigil.store import Store

# Clear identifiers that must never show outside the vault (and the reveal path).
HANDLES = ["example_user_one", "example_user_two"]
CHANNEL = "example_channel_main"
NATIVE_IDS = ["100200300401", "100200300402"]
DISPLAY_NAMES = ["Placeholder Person One", "Placeholder Person Two"]
EMAIL = "person.one@example.org"
PHONE = "+44 20 7946 0991"
PROFILE_URL = "https://t.me/example_profile_page"
FORWARDED = "example_forward_source"
CLEAR = [*HANDLES, CHANNEL, *NATIVE_IDS, *DISPLAY_NAMES, EMAIL, PHONE, PROFILE_URL, FORWARDED]


def make_item(n: int, *, url: str | None = None, media: list[Media] | None = None, **meta: Any) -> Item:
    who = n % 2
    return Item(
        id=make_item_id("privtest", f"m{n}"),
        source="privtest",
        text=f"neutral placeholder post number {n}",
        native_id=f"m{n}",
        url=url or f"https://example.net/posts/{n}",
        account=Account("telegram", NATIVE_IDS[who], HANDLES[who], DISPLAY_NAMES[who]),
        channel=Account("telegram", None, CHANNEL, None, is_channel=True),
        published=datetime(2026, 3, 1, 10, n % 60, tzinfo=UTC),
        forwarded_from=FORWARDED if n % 3 == 0 else None,
        media=media or [],
        meta=dict(meta),
    )


def sample_items(count: int = 6) -> list[Item]:
    return [
        make_item(i, email=EMAIL, phone=PHONE, profile_url=PROFILE_URL) if i == 0 else make_item(i)
        for i in range(count)
    ]


def open_case(store: Store, item: Item, state: str = "new", **kw: Any) -> int:
    store.add_items([item])
    (case_id,) = store.open_cases([Case(None, item.id, title="placeholder case", **kw)])
    if state != "new":
        set_state(store, case_id, state)
    return case_id


def set_state(store: Store, case_id: int, state: str, updated_at: datetime | None = None) -> None:
    from sqlalchemy import update

    from vigil.store.schema import cases

    values: dict[str, Any] = {"state": state}
    if updated_at is not None:
        values["updated_at"] = updated_at
    with store.write() as conn:
        conn.execute(update(cases).where(cases.c.id == case_id).values(**values))


def cli(args: list[str], home: Path, database_url: str) -> Result:
    env = {"VIGIL_HOME": str(home), "VIGIL_DATABASE_URL": database_url}
    return CliRunner().invoke(build_app(args), args, env=env, catch_exceptions=True)
