"""Log-out ends the session on the server, and cookies are Secure behind a TLS proxy (issue 16 #8), on a
real uvicorn server, SQLite and PostgreSQL.

A log-out without the CSRF token deleted the browser's cookie but left the session alive on the server;
and the Secure flag followed the request's own scheme, which behind a TLS-terminating proxy is http.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from tests.workflow_helpers import PASSWORD, make_users, ui_login
from vigil.config import Config
from vigil.errors import ConfigError
from vigil.store import Store
from vigil.web.app import create_app
from vigil.web.auth import SESSION_COOKIE
from vigil.web.server import serve_in_thread


@pytest.fixture
def served(store: Store, config: Config) -> Iterator[str]:
    make_users(store)
    with serve_in_thread(create_app(config, store)) as url:
        yield url


def _session(url: str) -> tuple[httpx.Client, str, str]:
    """A logged-in browser: the client, its session cookie and the page's CSRF token."""
    client = httpx.Client(base_url=url, timeout=30, follow_redirects=False)
    assert ui_login(client, "ana").status_code == 303
    csrf = client.get("/").text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    return client, client.cookies[SESSION_COOKIE], csrf


def _alive(url: str, cookie: str) -> bool:
    with httpx.Client(base_url=url, cookies={SESSION_COOKIE: cookie}) as other:
        return other.get("/api/v1/auth/me").status_code == 200


LOGOUTS = {
    "form without token": lambda c, t: c.post("/logout", data={}),
    "form with a wrong token": lambda c, t: c.post("/logout", data={"csrf": "not-the-token"}),
    "form with its token": lambda c, t: c.post("/logout", data={"csrf": t}),
    "API without token": lambda c, t: c.delete("/api/v1/auth/token"),
    "API with its token": lambda c, t: c.delete("/api/v1/auth/token", headers={"X-CSRF-Token": t}),
}


@pytest.mark.parametrize("how", sorted(LOGOUTS))
def test_an_accepted_log_out_ends_the_session_on_the_server(served: str, how: str) -> None:
    """The rule: a log-out is refused (403, the session goes on) or the session is over for everyone
    holding its cookie, never "cookie gone from this browser, session alive"."""
    client, cookie, csrf = _session(served)
    try:
        answer = LOGOUTS[how](client, csrf)
    finally:
        client.close()
    if answer.status_code == 403:
        assert _alive(served, cookie) and "its token" not in how
        assert f"{SESSION_COOKIE}=" not in answer.headers.get("set-cookie", "")
    else:
        assert answer.status_code in (204, 303), answer.text[:200]
        assert not _alive(served, cookie), f"{how}: the session outlived its log-out"
        assert f'{SESSION_COOKIE}=""' in answer.headers.get("set-cookie", "")


def test_log_out_without_its_token_keeps_the_session(served: str) -> None:
    """The regression: the form without its token used to answer 303 and leave the session alive."""
    client, cookie, _csrf = _session(served)
    try:
        answer = client.post("/logout", data={})
    finally:
        client.close()
    assert answer.status_code == 403 and _alive(served, cookie)


def _login_cookies(url: str, headers: dict[str, str] | None = None) -> list[str]:
    with httpx.Client(base_url=url, timeout=30, follow_redirects=False, headers=headers) as client:
        form = client.get("/login")
        token = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        data = {"username": "ana", "password": PASSWORD, "csrf": token}
        # Sent by hand: over plain http a client keeps a Secure cookie to itself (the proxy speaks https).
        answer = client.post("/login", data=data, headers={"cookie": f"vigil_login_csrf={token}"})
        assert answer.status_code == 303, answer.text[:200]
        return [*form.headers.get_list("set-cookie"), *answer.headers.get_list("set-cookie")]


def _secure(cookies: list[str], name: str) -> bool:
    """The flag on the cookie as set (not on its deletion after log-in)."""
    (line,) = [c for c in cookies if c.startswith(name + "=") and not c.startswith(name + '=""')]
    return "secure" in [part.strip().lower() for part in line.split(";")]


@pytest.mark.parametrize(
    ("mode", "proxies", "forwarded", "secure"),
    [
        ("auto", (), None, False),
        ("auto", ("127.0.0.1/32",), "https", True),  # behind a TLS proxy on this host: was never Secure
        ("auto", ("127.0.0.0/8", "::1"), "https, http", True),  # the client's scheme comes first
        ("auto", (), "https", False),  # no trusted proxy: anyone's header is ignored
        ("auto", ("10.0.0.0/8",), "https", False),  # the peer (127.0.0.1) is not a trusted proxy
        ("auto", ("127.0.0.1",), "http", False),
        ("always", (), None, True),
        ("never", ("127.0.0.1",), "https", False),
    ],
)
def test_the_secure_flag_follows_the_setting_and_trusted_proxies(
    store: Store,
    config: Config,
    mode: str,
    proxies: tuple[str, ...],
    forwarded: str | None,
    secure: bool,
) -> None:
    make_users(store)
    app = create_app(replace(config, cookie_secure=mode, trusted_proxies=proxies), store)
    headers = {"X-Forwarded-Proto": forwarded} if forwarded else None
    with serve_in_thread(app) as url:
        cookies = _login_cookies(url, headers)
    assert _secure(cookies, SESSION_COOKIE) is secure
    assert _secure(cookies, "vigil_login_csrf") is secure


def test_the_settings_come_from_config_toml_and_bad_ones_stop_the_start(home: object, config: Config) -> None:
    from pathlib import Path

    path = Path(str(home)) / "config.toml"
    path.write_text('cookie_secure = "always"\ntrusted_proxies = ["192.0.2.0/24"]\n', "utf-8")
    loaded = Config.load(Path(str(home)))
    assert loaded.cookie_secure == "always" and loaded.trusted_proxies == ("192.0.2.0/24",)
    for bad in ({"cookie_secure": "sometimes"}, {"trusted_proxies": ("not-an-address",)}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            create_app(replace(config, **bad))  # type: ignore[arg-type]
