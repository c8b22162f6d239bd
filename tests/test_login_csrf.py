"""The log-in form's CSRF token (double submit: cookie + hidden field) against the real app on uvicorn,
on SQLite and PostgreSQL: without it or with a wrong one, 403 before the password is checked."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.workflow_helpers import PASSWORD, login_form_token, make_users, ui_login
from vigil.audit import log as audit
from vigil.config import Config
from vigil.store import Store
from vigil.web.app import create_app
from vigil.web.login_csrf import LOGIN_CSRF_COOKIE
from vigil.web.server import serve_in_thread

REFUSED = "security token"


@pytest.fixture
def served(store: Store, config: Config) -> Iterator[tuple[str, Store]]:
    make_users(store)
    with serve_in_thread(create_app(config, store)) as url:
        yield url, store


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=30, follow_redirects=False)


def _failed_logins(store: Store) -> int:
    return sum(1 for e in audit.entries(store, 500) if e.action == "auth.login_failed")


def test_form_sets_the_token_twice(served: tuple[str, Store]) -> None:
    url, _ = served
    with _client(url) as client:
        page = client.get("/login")
        cookie = page.headers["set-cookie"]
        assert cookie.startswith(f"{LOGIN_CSRF_COOKIE}=")
        flags = cookie.lower()
        assert "httponly" in flags and "samesite=strict" in flags and "path=/login" in flags
        token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        assert len(token) >= 40 and client.cookies[LOGIN_CSRF_COOKIE] == token
        assert login_form_token(client) != token  # every form gets a fresh one


def test_login_without_or_with_a_wrong_token_is_403(served: tuple[str, Store]) -> None:
    url, store = served
    creds = {"username": "ana", "password": PASSWORD}
    with _client(url) as client:
        token = login_form_token(client)
        for data in (
            creds,  # no field
            {**creds, "csrf": ""},
            {**creds, "csrf": token[:-1] + ("A" if token[-1] != "A" else "B")},
            {**creds, "csrf": "x" * 10_000},
            {**creds, "csrf": "ünïcödé\u202e"},
        ):
            refused = client.post("/login", data=data)
            assert refused.status_code == 403, data
            assert REFUSED in refused.text and "reload the page" in refused.text
            assert "vigil_session" not in refused.headers.get("set-cookie", "")
            assert 'name="csrf" value="' in refused.text  # a fresh form to try again
    with _client(url) as stranger:  # a field copied from someone else's form, no cookie of its own
        refused = stranger.post("/login", data={**creds, "csrf": token})
        assert refused.status_code == 403 and REFUSED in refused.text
        other = _client(url)
        with other:  # both present but from two different forms
            stranger.get("/login")
            mixed = stranger.post("/login", data={**creds, "csrf": login_form_token(other)})
            assert mixed.status_code == 403
    # Refused before the password was looked at: no failed attempt counted, no lock-out creeping up.
    assert _failed_logins(store) == 0


def test_right_token_logs_in(served: tuple[str, Store]) -> None:
    url, store = served
    with _client(url) as client:
        wrong = ui_login(client, "ana", "not the password")
        assert wrong.status_code == 401 and "wrong user name or password" in wrong.text
        answer = ui_login(client, "ana")
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        assert "vigil_session" in client.cookies
        cleared = [c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{LOGIN_CSRF_COOKIE}=")]
        assert cleared and ("max-age=0" in cleared[0].lower() or "expires=" in cleared[0].lower())
        assert client.get("/api/v1/auth/me").json()["username"] == "ana"
    assert _failed_logins(store) == 1
