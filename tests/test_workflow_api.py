"""The API on a real uvicorn server (127.0.0.1, any port), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import update

from tests.workflow_helpers import PASSWORD, bearer, make_users, seed_case, ui_login
from vigil.audit.log import audit_log
from vigil.boot import open_store
from vigil.config import Config
from vigil.store import Store
from vigil.web.api.schemas import CasePage
from vigil.web.app import FEATURE_ROUTERS, create_app
from vigil.web.server import serve_in_thread


@dataclass
class Api:
    client: httpx.Client
    store: Store
    case_id: int


@pytest.fixture
def api(store: Store, config: Config) -> Iterator[Api]:
    make_users(store)
    case_id = seed_case(store)
    with serve_in_thread(create_app(config, store)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield Api(client, store, case_id)


def _move(api: Api, who: dict[str, str], to: str, **extra: object) -> httpx.Response:
    body = {"to": to, "reason": f"moving to {to}", **extra}
    return api.client.post(f"/api/v1/cases/{api.case_id}/transition", headers=who, json=body)


def test_review_path_and_four_eyes(api: Api) -> None:
    ana, vera = bearer(api.client, "ana"), bearer(api.client, "vera")
    for to, extra in (
        ("triage", {}),
        ("confirmed", {}),
        ("decision", {"decision": "notice"}),
        ("proposed", {}),
    ):
        response = _move(api, ana, to, **extra)
        assert response.status_code == 200, response.text
        assert response.json()["state"] == to
    refused = _move(api, ana, "approved")
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden" and "analyst" in refused.json()["reason"]
    approved = _move(api, vera, "approved")
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    detail = api.client.get(f"/api/v1/cases/{api.case_id}", headers=vera).json()
    assert [e["to"] for e in detail["events"]][-2:] == ["proposed", "approved"]
    assert detail["events"][-2]["actor"] == "ana" and detail["events"][-1]["actor"] == "vera"
    assert detail["matches"][0]["distance"] == 12 and detail["attributions"][0]["outlet"] == "Example Outlet"
    assert "sent" in detail["next_states"]


def test_verifier_cannot_approve_own_proposal(api: Api) -> None:
    vera, lena = bearer(api.client, "vera"), bearer(api.client, "lena")
    for to, extra in (
        ("triage", {}),
        ("confirmed", {}),
        ("decision", {"decision": "refer"}),
        ("proposed", {}),
    ):
        assert _move(api, vera, to, **extra).status_code == 200
    own = _move(api, vera, "approved")
    assert own.status_code == 403 and "four eyes" in own.json()["reason"]
    assert _move(api, lena, "approved").status_code == 200


def test_bad_moves_and_bodies(api: Api) -> None:
    ana = bearer(api.client, "ana")
    assert _move(api, ana, "approved").status_code == 409  # not reachable from new
    assert _move(api, ana, "sent").status_code == 409  # not reachable from new
    assert _move(api, ana, "nonsense").status_code == 422
    url = f"/api/v1/cases/{api.case_id}/transition"
    assert api.client.post(url, headers=ana, json={"to": "triage"}).status_code == 422  # no reason
    assert (
        api.client.post(url, headers=ana, json={"to": "triage", "reason": "x", "extra": 1}).status_code == 422
    )
    broken = api.client.post(url, headers={**ana, "content-type": "application/json"}, content=b'{"to": "tri')
    assert broken.status_code == 422 and "Traceback" not in broken.text
    huge = api.client.post(url, headers=ana, json={"to": "triage", "reason": "x" * (2 << 20)})
    assert huge.status_code == 413 and huge.json()["error"] == "request entity too large"
    assert api.client.get("/api/v1/cases/999999", headers=ana).status_code == 404
    assert api.client.get("/api/v1/cases/0", headers=ana).status_code == 422
    assert api.client.get("/api/v1/cases?state=bogus", headers=ana).status_code == 422
    assert api.client.get("/api/v1/cases?after=garbage", headers=ana).status_code == 400


def test_auth_errors_are_json_with_a_reason(api: Api) -> None:
    none = api.client.get("/api/v1/cases")
    assert none.status_code == 401 and none.json()["reason"] and none.headers["www-authenticate"] == "Bearer"
    wrong = api.client.get("/api/v1/cases", headers={"Authorization": "Bearer not-a-token"})
    assert wrong.status_code == 401 and "unknown" in wrong.json()["reason"]
    basic = api.client.get("/api/v1/cases", headers={"Authorization": "Basic abc"})
    assert basic.status_code == 401
    ana = bearer(api.client, "ana")
    audit_refused = api.client.get("/api/v1/audit", headers=ana)
    assert audit_refused.status_code == 403 and "audit.view" in audit_refused.json()["reason"]
    otto = bearer(api.client, "otto")
    assert (
        api.client.post(
            f"/api/v1/cases/{api.case_id}/transition", headers=otto, json={"to": "triage", "reason": "x"}
        ).status_code
        == 403
    )
    bad = api.client.post("/api/v1/auth/token", json={"username": "ana", "password": "wrong password"})
    assert bad.status_code == 401 and bad.json()["error"] == "unauthorized"


def test_lock_out_after_repeated_failures(api: Api) -> None:
    for _ in range(5):
        failed = api.client.post("/api/v1/auth/token", json={"username": "ana", "password": "nope nope"})
        assert failed.status_code == 401
    locked = api.client.post("/api/v1/auth/token", json={"username": "ana", "password": PASSWORD})
    assert locked.status_code == 401 and "locked" in locked.json()["reason"]
    otto = bearer(api.client, "otto")
    log = api.client.get("/api/v1/audit?limit=50", headers=otto).json()
    failures = [e for e in log if e["action"] == "auth.login_failed" and e["actor"] == "ana"]
    assert len(failures) == 6 and "locked" in failures[0]["details"]["why"]
    assert any(e["action"] == "auth.login" and e["actor"] == "otto" for e in log)


def test_queue_filters_and_keyset_pages(api: Api) -> None:
    from vigil.core.model import Severity

    for n in range(2, 8):
        seed_case(api.store, n, Severity.THREAT_TO_LIFE if n % 2 else Severity.OTHER)
    ana = bearer(api.client, "ana")
    seen: list[int] = []
    after = None
    while True:
        params = {"limit": 3, **({"after": after} if after else {})}
        page = api.client.get("/api/v1/cases", headers=ana, params=params).json()
        seen += [c["id"] for c in page["cases"]]
        after = page["next_cursor"]
        if not after:
            break
    assert sorted(seen) == list(range(1, 8)) and len(seen) == 7
    urgent = api.client.get("/api/v1/cases?severity=threat_to_life", headers=ana).json()["cases"]
    assert {c["id"] for c in urgent} == {3, 5, 7}
    assert all(c["deadline"]["name"].startswith("review") for c in urgent)
    CasePage.model_validate(api.client.get("/api/v1/cases", headers=ana).json())  # matches its schema
    _move(api, ana, "triage")
    in_triage = api.client.get("/api/v1/cases?state=triage", headers=ana).json()["cases"]
    assert [c["id"] for c in in_triage] == [api.case_id]


def test_audit_views_verify_and_tampering(api: Api) -> None:
    ana, otto = bearer(api.client, "ana"), bearer(api.client, "otto")
    api.client.get(f"/api/v1/cases/{api.case_id}", headers=ana)
    _move(api, ana, "triage")
    log = api.client.get("/api/v1/audit", headers=otto).json()
    actions = [e["action"] for e in log]
    assert "case.view" in actions and "case.transition" in actions and "auth.login" in actions
    clean = api.client.get("/api/v1/audit/verify", headers=otto).json()
    assert clean["ok"] and clean["entries"] == len(log)
    export = api.client.get("/api/v1/audit/export", headers=otto)
    assert export.status_code == 200 and len(export.text.splitlines()) == len(log) + 1
    view = next(e for e in log if e["action"] == "case.view")
    with api.store.engine.begin() as conn:  # behind the app's back
        conn.execute(update(audit_log).where(audit_log.c.id == view["id"]).values(actor="nobody"))
    broken = api.client.get("/api/v1/audit/verify", headers=otto).json()
    assert not broken["ok"] and broken["first_broken"] == view["id"]


def test_admin_users_and_settings_are_audited(api: Api) -> None:
    adam, ana = bearer(api.client, "adam"), bearer(api.client, "ana")
    created = api.client.post(
        "/api/v1/users", headers=adam, json={"username": "newbie", "role": "analyst", "password": "x" * 12}
    )
    assert created.status_code == 201
    assert (
        api.client.post(
            "/api/v1/users",
            headers=adam,
            json={"username": "newbie", "role": "analyst", "password": "x" * 12},
        ).status_code
        == 400
    )
    assert (
        api.client.post(
            "/api/v1/users", headers=adam, json={"username": "x2", "role": "pope", "password": "x" * 12}
        ).status_code
        == 400
    )
    assert api.client.get("/api/v1/users", headers=ana).status_code == 403
    assert api.client.put("/api/v1/settings/retention_days", headers=adam, json=180).json() == {
        "retention_days": 180
    }
    api.client.put("/api/v1/settings/retention_days", headers=adam, json=90)
    log = api.client.get("/api/v1/audit?target_type=setting", headers=adam).json()
    assert [e["details"] for e in log] == [{"old": 180, "new": 90}, {"old": None, "new": 180}]


def test_session_cookie_needs_csrf_for_changes(api: Api) -> None:
    login = ui_login(api.client, "ana")
    assert login.status_code == 303 and "vigil_session" in login.headers["set-cookie"]
    assert "httponly" in login.headers["set-cookie"].lower()
    assert api.client.get("/api/v1/auth/me").json() == {
        "username": "ana",
        "role": "analyst",
        "via": "session",
    }
    url = f"/api/v1/cases/{api.case_id}/transition"
    refused = api.client.post(url, json={"to": "triage", "reason": "x"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["reason"]
    page = api.client.get(f"/cases/{api.case_id}").text
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    accepted = api.client.post(url, json={"to": "triage", "reason": "x"}, headers={"X-CSRF-Token": token})
    assert accepted.status_code == 200
    wrong_form = api.client.post(f"/cases/{api.case_id}/transition", data={"to": "confirmed", "reason": "x"})
    assert wrong_form.status_code == 403
    bad_login = ui_login(api.client, "ana", "not it at all")
    assert bad_login.status_code == 401 and "wrong user name or password" in bad_login.text


def test_unexpected_errors_are_generic(config: Config, caplog: pytest.LogCaptureFixture) -> None:
    store = open_store(config)
    app = create_app(config, store, routers=[*FEATURE_ROUTERS, "tests.workflow_boom"])
    try:
        with serve_in_thread(app) as url, caplog.at_level("ERROR", logger="vigil.api"):
            response = httpx.get(f"{url}/api/v1/boom")
        assert response.status_code == 500
        assert response.json()["error"] == "internal server error"
        assert "secret internal detail" not in response.text and "Traceback" not in response.text
        assert any("unhandled error on GET /api/v1/boom" in r.getMessage() for r in caplog.records)
        assert ("Boom", "/boom") in app.state.vigil.nav
    finally:
        store.close()
