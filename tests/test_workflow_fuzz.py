"""Schemathesis against the app's own /openapi.json, on SQLite and PostgreSQL: no input yields a 5xx
(issue 16 #3: a NUL byte was a 500 on PostgreSQL only, so SQLite alone never showed it).

Every operation is called with generated inputs (valid and invalid, ``GenerationMode.all``), and about
half of them are poisoned: a NUL or another control character put into a string of the path, the query
or the body. Each call carries a token of a role that the route's declared access admits (read from the
route table, ``vigil.web.auth.declared_access``), so the inputs reach the handlers behind the gate; the
roles rotate. Bounded: a fixed number of examples per operation (about a minute per store).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from sqlalchemy import inspect, text

from tests.workflow_helpers import FAST_HASHER, PASSWORD, bearer, seed_case
from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import Severity
from vigil.store import Store
from vigil.web.app import create_app
from vigil.web.auth import LOGGED_IN, PUBLIC, declared_access
from vigil.web.server import serve_in_thread
from vigil.workflow import accounts
from vigil.workflow.roles import ROLES, Permission, can

EXAMPLES = 10
POISON = ["\x00", "\x01", "\x1b", "\x7f", "\r\n", "\u2028", "\x00\x00placeholder"]


def _empty(store: Store) -> None:
    names = [t for t in inspect(store.engine).get_table_names() if t != "alembic_version"]
    with store.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(repr(n).replace(chr(39), chr(34)) for n in names)} CASCADE"))


@pytest.fixture(
    scope="module",
    params=[
        "sqlite",
        pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.xdist_group("pg")]),
    ],
)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Any]]:
    home = tmp_path_factory.mktemp("fuzz-home")
    if request.param == "sqlite":
        url = f"sqlite:///{home / 'vigil.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    config = Config.load(Path(home), database_url=url)
    store = open_store(config)
    if request.param == "postgresql":
        _empty(store)  # the session's database: other modules' rows do not matter, but names would clash
    for role in ROLES:
        accounts.add_user(store, f"fuzz-{role}", role, PASSWORD, hasher=FAST_HASHER)
    for n, severity in enumerate(Severity, 1):
        seed_case(store, n, severity)
    app = create_app(config, store)
    with serve_in_thread(app) as base:
        yield base, app
    store.close()


def _admitted(app: Any) -> dict[tuple[str, str], list[str]]:
    """(METHOD, path template) -> the roles the route's declared access admits."""
    from fastapi.routing import APIRoute

    try:
        from fastapi.routing import iter_route_contexts

        routes = [(str(c.path), c.route) for c in iter_route_contexts(app.routes)]
    except ImportError:
        routes = [(str(getattr(r, "path", "")), r) for r in app.routes]
    admitted: dict[tuple[str, str], list[str]] = {}
    for path, route in routes:
        if not isinstance(route, APIRoute):
            continue
        access = declared_access(route.dependant)[0]
        roles = [r for r in ROLES if access in (PUBLIC, LOGGED_IN) or can(r, Permission(access))]
        for method in route.methods:
            admitted[(method, path)] = roles
    return admitted


def _poison(data: st.DataObject, case: Any) -> None:
    """Put a NUL or control character into one string of the case, wherever strings are."""
    spots: list[tuple[Any, Any]] = []
    for container in (case.path_parameters, case.query):
        if isinstance(container, dict):
            spots.extend((container, k) for k, v in container.items() if isinstance(v, str))

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, str):
                    spots.append((value, k))
                walk(v)
        elif isinstance(value, list):
            for n, v in enumerate(value):
                if isinstance(v, str):
                    spots.append((value, n))
                walk(v)

    walk(case.body)
    if not spots:
        return
    container, key = data.draw(st.sampled_from(spots))
    bad = data.draw(st.sampled_from(POISON))
    at = data.draw(st.integers(0, len(container[key])))
    container[key] = container[key][:at] + bad + container[key][at:]


def test_no_server_error(live: tuple[str, Any]) -> None:
    base, app = live
    # Driven by hand rather than through schemathesis' pytest plug-in, which does not support pytest 9.
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    schema.config.generation.update(modes=list(GenerationMode), allow_x00=True, codec="utf-8")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    admitted = _admitted(app)
    with httpx.Client(base_url=base) as client:
        tokens = {role: bearer(client, f"fuzz-{role}") for role in ROLES}
    called: list[str] = []

    for operation in operations:
        roles = admitted[(operation.method.upper(), operation.path)]
        assert roles, f"{operation.method} {operation.path}: no role may call it"
        _fuzz(operation, roles, tokens, base, called)
    codes = {c.rsplit(" ", 1)[1] for c in called}
    assert "200" in codes and "422" in codes
    assert re.search(r" 2\d\d$", "\n".join(c for c in called if "/settings/" in c), re.M)


def _fuzz(
    operation: Any, roles: list[str], tokens: dict[str, dict[str, str]], base: str, called: list[str]
) -> None:
    turn = itertools.cycle(roles)

    @given(case=operation.as_strategy(), data=st.data(), poison=st.booleans())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Any, data: st.DataObject, poison: bool) -> None:
        if poison:
            _poison(data, case)
        role = next(turn)
        headers = dict(tokens[role])
        if case.method == "DELETE" and case.path == "/api/v1/auth/token":
            with httpx.Client(base_url=base) as client:
                headers = bearer(client, f"fuzz-{role}")  # revoking must not spend the shared token
        response = case.call(base_url=base, headers=headers)
        called.append(f"{case.method} {case.path} {response.status_code}")
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} as {role}: {response.status_code} {response.text[:500]}"
        )
        assert "Traceback" not in response.text

    run()
