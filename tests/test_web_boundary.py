"""The boundary refuses what the store cannot hold, with 422 (issue 16 #3), on SQLite and PostgreSQL.

A NUL byte was a 500 on PostgreSQL at the log-in (before authentication), the token request, a
transition's reason, a setting's value, four graph endpoints and ``watch/sources/{name}``; ``PUT
/settings`` with a text/plain body was a 500 too. Each is sent here as it was found; the general rule
(every operation, generated inputs, NUL and control characters) is ``tests/test_workflow_fuzz.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.workflow_helpers import bearer, login_form_token, make_users, seed_case
from vigil.audit import log as audit
from vigil.config import Config
from vigil.store import Store
from vigil.store.storable import unstorable, unstorable_in
from vigil.web.app import create_app
from vigil.web.server import serve_in_thread

NUL = "place\x00holder"


@dataclass
class Served:
    client: httpx.Client
    store: Store
    case_id: int
    vera: dict[str, str]
    adam: dict[str, str]


@pytest.fixture
def served(store: Store, config: Config) -> Iterator[Served]:
    make_users(store)
    case_id = seed_case(store)
    with serve_in_thread(create_app(config, store)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield Served(client, store, case_id, bearer(client, "vera"), bearer(client, "adam"))


def _login(s: Served) -> httpx.Response:
    token = login_form_token(s.client)
    return s.client.post("/login", data={"username": NUL, "password": "placeholder", "csrf": token})


FOUND: dict[str, Callable[[Served], httpx.Response]] = {
    "log-in form": _login,
    "token": lambda s: s.client.post("/api/v1/auth/token", json={"username": NUL, "password": "x"}),
    "transition reason": lambda s: s.client.post(
        f"/api/v1/cases/{s.case_id}/transition", headers=s.vera, json={"to": "triage", "reason": NUL}
    ),
    "setting value": lambda s: s.client.put("/api/v1/settings/placeholder", headers=s.adam, json=NUL),
    "setting name inside the value": lambda s: s.client.put(
        "/api/v1/settings/placeholder", headers=s.adam, json={NUL: 1}
    ),
    "setting as text/plain": lambda s: s.client.put(
        "/api/v1/settings/placeholder",
        headers={**s.adam, "content-type": "text/plain"},
        content=b"placeholder",
    ),
    "setting NaN": lambda s: s.client.put(
        "/api/v1/settings/placeholder",
        headers={**s.adam, "content-type": "application/json"},
        content=b"NaN",
    ),
    "graph actors": lambda s: s.client.get("/api/v1/graph/actors", headers=s.vera, params={"outlet": NUL}),
    "graph lineage": lambda s: s.client.get("/api/v1/graph/lineage", headers=s.vera, params={"outlet": NUL}),
    "graph ego": lambda s: s.client.get("/api/v1/graph/ego", headers=s.vera, params={"node": NUL}),
    "graph path": lambda s: s.client.get(
        "/api/v1/graph/path", headers=s.vera, params={"source": NUL, "target": "x"}
    ),
    "watched source": lambda s: s.client.get("/api/v1/watch/sources/place%00holder", headers=s.vera),
    "audit filter": lambda s: s.client.get("/api/v1/audit", headers=s.adam, params={"target_id": NUL}),
    "queue page filter": lambda s: s.client.get("/", params={"state": NUL}),
}


@pytest.mark.parametrize("where", sorted(FOUND))
def test_a_nul_byte_is_refused_with_422(served: Served, where: str) -> None:
    before = len(audit.entries(served.store, 1000))
    answer = FOUND[where](served)
    assert answer.status_code == 422, (where, answer.status_code, answer.text[:300])
    body = answer.json()
    assert body["error"] == "unprocessable entity" and body["errors"][0]["loc"]
    assert "\x00" not in answer.text and "place" not in answer.text  # where, never the input itself
    # Refused before anything happened: not even a failed log-in was recorded.
    assert len(audit.entries(served.store, 1000)) == before


def test_control_characters_other_than_nul_are_kept(served: Served) -> None:
    """The store holds them, so they are data, not errors: kept as sent, and the log still verifies."""
    value = {"text": "a\x01b\x1bc\x7f", "\x02": [1e16, -0.0]}
    saved = served.client.put("/api/v1/settings/placeholder", headers=served.adam, json=value)
    assert saved.status_code == 200, saved.text
    assert saved.json()["placeholder"] == {"text": "a\x01b\x1bc\x7f", "\x02": [1e16, 0.0]}
    assert audit.verify(served.store).ok


texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)


@given(before=texts, after=texts)
@settings(max_examples=200)
def test_the_rule_names_every_string_it_cannot_store(before: str, after: str) -> None:
    bad = before + "\x00" + after
    assert unstorable(bad) and not unstorable(before + after)
    found = unstorable_in({"a": [before, {"b": bad}]}, "body")
    assert found is not None and found[0] == "body.a[1].b"
    assert unstorable_in({"a": [before, {"b": before + after}]}, "body") is None
    assert unstorable_in({bad: 1}) is not None
    assert unstorable_in([float("nan")]) is not None
