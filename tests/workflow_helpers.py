"""Helpers for the workflow tests: neutral placeholder items with detector reasons, users, tokens."""

from __future__ import annotations

from typing import Any

from argon2 import PasswordHasher

from vigil.core.model import Account, Case, Item, Media, Reason, Severity, Signal, make_item_id
from vigil.store import Store
from vigil.workflow import accounts

PASSWORD = "correct horse battery"
# Cheap argon2 parameters for tests: the machine is shared and the defaults take about a second.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
TEXT = "Placeholder bulletin number 7 mentions placeholder-watch-term twice: placeholder-watch-term."


def seed_case(
    store: Store,
    n: int = 1,
    severity: Severity = Severity.OFFICIAL_RELEASE,
    media: list[Media] | None = None,
    lang: str = "en",
) -> int:
    """One item with a watch-list signal (reasons with spans), a hash-match signal, and its case."""
    item = Item(
        id=make_item_id("test", f"post-{n}"),
        source="test",
        text=TEXT,
        native_id=f"post-{n}",
        url=f"https://example.invalid/post/{n}",
        account=Account("example", handle=f"acct_{n}"),
        lang=lang,
        media=media or [],
    )
    store.add_items([item])
    start = TEXT.index("placeholder-watch-term")
    store.add_signals(
        [
            Signal(
                item.id,
                "watchlist",
                1.0,
                0.5,
                [Reason("watch-list term", start, start + len("placeholder-watch-term"), 1.0)],
                "1",
            ),
            Signal(
                item.id,
                "pdq",
                0.9,
                0.5,
                [Reason("near-duplicate of a known release")],
                "1",
                {"outlet": "Example Outlet", "matches": [{"hash": "ab" * 32, "distance": 12}]},
            ),
        ]
    )
    return store.open_cases([Case(None, item.id, severity=severity, score=1.0, title=f"placeholder {n}")])[0]


def make_users(store: Store) -> dict[str, str]:
    names = {
        "ana": "analyst",
        "vera": "verifier",
        "lena": "legal",
        "adam": "admin",
        "otto": "auditor",
    }
    for name, role in names.items():
        accounts.add_user(store, name, role, PASSWORD, hasher=FAST_HASHER)
    return names


def login_form_token(client: Any) -> str:
    """GET /login and read the form's hidden CSRF field (its cookie lands in the client's jar)."""
    page = client.get("/login")
    assert page.status_code == 200, page.text[:300]
    return str(page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0])


def ui_login(client: Any, username: str, password: str = PASSWORD) -> Any:
    """Log in through the UI's form as a browser does: fetch the form (CSRF cookie and field), post it."""
    data = {"username": username, "password": password, "csrf": login_form_token(client)}
    return client.post("/login", data=data, follow_redirects=False)


def bearer(client: Any, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def add_accounts(store: Store, **roles: str) -> None:
    """Accounts (name=role) for commands that act as an account in its role (``vigil.cli.acting``)."""
    for name, role in roles.items():
        accounts.add_user(store, name, role, PASSWORD, hasher=FAST_HASHER)
