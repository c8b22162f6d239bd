"""Every route × every role, from the app's own route table (issue 16 #2).

The UI gave the investigator what the API refused: ``/``, ``/cases/{id}`` and ``/dashboard`` checked only
that someone was logged in, not ``cases.view``. The rule: every route declares who may call it (a
permission, "logged in" or "public", read from its dependency tree by ``declared_access``), a page
declares the same permission as its API twin, and each answer agrees with the declaration. A route added
without a declaration fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from tests.workflow_helpers import FAST_HASHER, PASSWORD, seed_case, ui_login
from vigil.boot import open_store
from vigil.config import Config
from vigil.web.app import create_app
from vigil.web.auth import LOGGED_IN, PUBLIC, declared_access
from vigil.web.server import serve_in_thread
from vigil.workflow import accounts
from vigil.workflow.roles import ROLES, Permission, can

ANONYMOUS = "anonymous"
# Routes that end the caller's session: each call gets a session of its own.
LOG_OUTS = {("POST", "/logout"), ("DELETE", "/api/v1/auth/token")}
GATE = "lacks the permission"


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    access: Permission | str
    page: bool
    json_page: bool
    twin: str


def _routes(app: FastAPI) -> list[tuple[str, Any]]:
    """(full path, route) of every route, routers included into routers too (FastAPI >= 0.16x keeps them
    nested; ``iter_route_contexts`` flattens them)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: app.routes is already flat
        return [(str(getattr(r, "path", "")), r) for r in app.routes]
    return [(str(c.path), c.route) for c in iter_route_contexts(app.routes)]


def _calls(app: FastAPI) -> list[Call]:
    calls = []
    for path, route in _routes(app):
        if isinstance(route, Mount) or (isinstance(route, Route) and path == app.openapi_url):
            continue  # static files and the OpenAPI document: public by design
        assert isinstance(route, APIRoute), f"{route!r}: not a FastAPI route, so it declares no access"
        declared = declared_access(route.dependant)
        assert declared, f"{sorted(route.methods)} {path} declares no access (see vigil.web.auth)"
        permissions = [a for a in declared if isinstance(a, Permission)]
        assert len(permissions) <= 1, f"{path}: two permissions {permissions}"
        gate = next(
            (d.call for d in _walk(route.dependant) if getattr(d.call, "access", None) == declared[0]), None
        )
        for method in sorted(route.methods - {"HEAD"}):
            calls.append(
                Call(
                    method,
                    path,
                    declared[0],
                    page=not path.startswith("/api/"),
                    json_page=bool(getattr(gate, "json", False)),
                    twin=str(getattr(gate, "twin", "")),
                )
            )
    return calls


def _walk(dependant: object) -> Iterator[object]:
    stack = [dependant]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.dependencies)  # type: ignore[attr-defined]


def _fill(path: str) -> str:
    values = {"sha256": "a" * 64, "name": "placeholder-source", "key": "placeholder.key"}
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "1"), path)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    home = Path(tmp_path_factory.mktemp("access-home"))
    config = Config.load(home, database_url=f"sqlite:///{home / 'vigil.db'}")
    store = open_store(config)
    for role in ROLES:
        accounts.add_user(store, f"user-{role}", role, PASSWORD, hasher=FAST_HASHER)
    seed_case(store)
    app = create_app(config, store)
    with serve_in_thread(app) as url:
        yield url, app
    store.close()


def _client(url: str, role: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=url, timeout=60, follow_redirects=False)
    if role == ANONYMOUS:
        return client, ""
    assert ui_login(client, f"user-{role}").status_code == 303
    me = client.get("/").text
    found = re.search(r'name="csrf-token" content="([^"]+)"', me)
    if found is None:  # a role that may not see the queue: its CSRF token is in the log-out form
        found = re.search(r'name="csrf" value="([^"]+)"', me)
    assert found, f"no CSRF token on the page for {role}"
    return client, found.group(1)


def _request(client: httpx.Client, csrf: str, call: Call) -> httpx.Response:
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    if call.method in ("GET", "DELETE"):
        return client.request(call.method, _fill(call.path), headers=headers)
    if call.page:
        form = {"csrf": csrf, "to": "triage", "reason": "placeholder"}  # what the case form needs
        return client.request(call.method, _fill(call.path), data=form, headers=headers)
    return client.request(call.method, _fill(call.path), json={}, headers=headers)


def test_every_route_answers_every_role_as_it_declares(served: tuple[str, FastAPI]) -> None:
    url, app = served
    calls = _calls(app)
    assert {("GET", "/"), ("GET", "/cases/{case_id}"), ("GET", "/dashboard")} <= {
        (c.method, c.path) for c in calls
    }
    assert len(calls) >= 50
    sessions = {role: _client(url, role) for role in [ANONYMOUS, *ROLES]}
    wrong: list[str] = []
    try:
        for call in calls:
            for role, (client, csrf) in sessions.items():
                if (call.method, call.path) in LOG_OUTS and role != ANONYMOUS:
                    own, own_csrf = _client(url, role)
                    try:
                        answer = _request(own, own_csrf, call)
                    finally:
                        own.close()
                else:
                    answer = _request(client, csrf, call)
                why = _judge(call, role, answer)
                if why:
                    wrong.append(f"{call.method} {call.path} as {role}: {answer.status_code} {why}")
    finally:
        for client, _ in sessions.values():
            client.close()
    assert not wrong, "\n".join(wrong)


def _judge(call: Call, role: str, answer: httpx.Response) -> str:
    """What is wrong with ``answer`` for ``role``, or ""."""
    if answer.status_code >= 500:
        return "a server error"
    if call.access == PUBLIC:
        return ""
    to_login = answer.status_code == 303 and answer.headers.get("location") == "/login"
    if role == ANONYMOUS:
        if call.page and not call.json_page:
            return "" if to_login else "not sent to /login"
        return "" if answer.status_code == 401 else "answered without credentials"
    allowed = call.access == LOGGED_IN or can(role, Permission(call.access))
    refused_here = answer.status_code == 403 and GATE in answer.text
    if allowed:
        if answer.status_code == 401 or to_login or refused_here:
            return "refused although the role has the permission"
        return ""
    return "" if refused_here else f"not refused by the gate (declared {call.access})"


def test_every_page_declares_the_permission_of_its_api_twin(served: tuple[str, FastAPI]) -> None:
    _url, app = served
    calls = _calls(app)
    by_route = {f"{c.method} {c.path}": c for c in calls}
    pages = [c for c in calls if c.page and c.access != PUBLIC]
    assert pages and all(isinstance(c.access, Permission) for c in pages)
    twinned = [c for c in pages if c.twin]
    assert len(twinned) >= 10
    for page in twinned:
        twin = by_route.get(page.twin)
        assert twin is not None, f"{page.path}: no API route {page.twin}"
        assert twin.access == page.access, f"{page.path} checks {page.access}, its twin {twin.access}"
    # The regression: the three pages that let any logged-in user in.
    for path in ("/", "/cases/{case_id}", "/dashboard"):
        assert by_route[f"GET {path}"].access == Permission.VIEW_CASES


def test_the_investigator_gets_from_the_ui_what_the_api_gives(served: tuple[str, FastAPI]) -> None:
    """The finding as it was seen: an investigator (no cases.view) read the queue, a case and the
    dashboard from the UI while the API refused them."""
    url, _app = served
    client, _csrf = _client(url, "investigator")
    try:
        for page, api in (("/", "/api/v1/cases"), ("/cases/1", "/api/v1/cases/1"), ("/dashboard", None)):
            answer = client.get(page)
            assert answer.status_code == 403 and "cases.view" in answer.text, page
            assert "placeholder 1" not in answer.text
            if api:
                assert client.get(api).status_code == 403
    finally:
        client.close()


def test_every_state_change_needs_the_csrf_token(served: tuple[str, FastAPI]) -> None:
    """What held stays: a session's change without its CSRF token is refused (403), on every route that
    changes something, for a role the route admits (so the token, not the role, is what is missing)."""
    url, app = served
    changes = [c for c in _calls(app) if c.method != "GET" and c.access != PUBLIC]
    assert len(changes) >= 13
    refused: list[str] = []
    for call in changes:
        role = next(r for r in ROLES if call.access == LOGGED_IN or can(r, Permission(call.access)))
        client, _csrf = _client(url, role)
        try:
            answer = _request(client, "", call)
        finally:
            client.close()
        if answer.status_code != 403 or "CSRF" not in answer.text:
            refused.append(f"{call.method} {call.path} as {role}: {answer.status_code}")
    assert not refused, "changed without a CSRF token:\n" + "\n".join(refused)
