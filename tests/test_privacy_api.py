"""Reveal, the reveal report and the do-not-refer list over HTTP (real uvicorn, SQLite and PostgreSQL):
the same core as the CLI, with roles, CSRF and the audit log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.privacy_helpers import EMAIL, HANDLES, NATIVE_IDS, make_item, open_case
from tests.workflow_helpers import FAST_HASHER, PASSWORD, bearer, make_users, ui_login
from vigil.audit import log as audit
from vigil.config import Config
from vigil.store import Store
from vigil.web.app import create_app
from vigil.web.server import serve_in_thread
from vigil.workflow import accounts

SECRET = "operation placeholder-88 under way"
REASON = {"reason_code": "referral_check", "reason_text": "check before the removal order"}


@dataclass
class Api:
    client: httpx.Client
    store: Store
    case_id: int
    other_case: int
    account: str  # the stored account key, platform:psa_...
    email: str  # the e-mail's pseudonym


@pytest.fixture
def api(store: Store, config: Config) -> Iterator[Api]:
    make_users(store)
    for name, role in (("dana", "dpo"), ("ivan", "investigator"), ("inge", "investigator")):
        accounts.add_user(store, name, role, PASSWORD, hasher=FAST_HASHER)
    item = make_item(1, email=EMAIL)
    case_id = open_case(store, item)
    other = open_case(store, make_item(2))
    got = store.get_item(item.id)
    assert got is not None and got.account is not None
    with serve_in_thread(create_app(config, store)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield Api(client, store, case_id, other, got.account.key, got.meta["email"])


def _reveal(api: Api, who: dict[str, str], pseudonym: str, case_id: int = 0, **reason: str) -> httpx.Response:
    body = {"case_id": case_id or api.case_id, "pseudonym": pseudonym, **reason}
    return api.client.post("/api/v1/privacy/reveal", headers=who, json=body)


def test_reveal_needs_a_reason_a_right_and_the_case(api: Api) -> None:
    dana, ana, vera = bearer(api.client, "dana"), bearer(api.client, "ana"), bearer(api.client, "vera")
    listed = api.client.get(f"/api/v1/privacy/cases/{api.case_id}/identities", headers=ana).json()
    assert listed["may_reveal"] is False
    assert {i["pseudonym"] for i in listed["identities"]} >= {api.account.split(":")[1], api.email}
    assert all(i["pseudonym"].startswith("ps") for i in listed["identities"])
    assert api.client.get(f"/api/v1/privacy/cases/{api.case_id}/identities", headers=dana).json()[
        "may_reveal"
    ]

    no_reason = _reveal(api, dana, api.account)
    assert no_reason.status_code == 400 and "reason code" in no_reason.json()["reason"]
    short = _reveal(api, dana, api.account, reason_code="referral_check", reason_text="because")
    assert short.status_code == 400 and "justification" in short.json()["reason"]
    assert _reveal(api, ana, api.account, **REASON).status_code == 403
    assert _reveal(api, dana, api.account, case_id=api.other_case, **REASON).status_code == 404
    assert _reveal(api, dana, "psa_" + "0" * 24, **REASON).status_code == 404

    shown = _reveal(api, dana, api.account, **REASON)
    assert shown.status_code == 200, shown.text
    assert (
        shown.json()["value"] == f"telegram:{NATIVE_IDS[1]}"
        and shown.json()["details"]["handle"] == HANDLES[1]
    )
    assert shown.json()["show_seconds"] == 60 and shown.headers["cache-control"] == "no-store"
    assert _reveal(api, dana, api.email, **REASON).json()["value"] == EMAIL

    # A verifier reveals once the DPO grants the right (through the same core as `vigil privacy grant`).
    from vigil.privacy import access

    access.grant(api.store, "dana", ["dpo"], "vera")
    assert _reveal(api, vera, api.account, **REASON).status_code == 200

    entries = audit.entries(api.store, 300)
    refused = [e for e in entries if e.action == "privacy.reveal_refused"]
    done = [e for e in entries if e.action == "privacy.reveal"]
    assert len(refused) == 5 and len(done) == 3
    assert all(EMAIL not in str(e.details) and NATIVE_IDS[1] not in str(e.details) for e in entries)

    report = api.client.get("/api/v1/privacy/reveals", headers=dana).json()
    assert report["by_actor"] == {"dana": 2, "vera": 1} and report["by_reason"] == {"referral_check": 3}
    assert report["refused_by_actor"] == {"ana": 1, "dana": 4}
    assert api.client.get("/api/v1/privacy/reveals", headers=ana).status_code == 403
    otto = bearer(api.client, "otto")  # an auditor reads the report too
    assert api.client.get("/api/v1/privacy/reveals", headers=otto).json()["reveals"] == 3


def test_reveal_from_a_session_needs_the_csrf_token(api: Api) -> None:
    ui_login(api.client, "dana")
    assert "vigil_session" in api.client.cookies
    page = api.client.get(f"/cases/{api.case_id}")
    token = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    body = {"case_id": api.case_id, "pseudonym": api.account, **REASON}
    assert api.client.post("/api/v1/privacy/reveal", json=body).status_code == 403
    forged = api.client.post("/api/v1/privacy/reveal", json=body, headers={"X-CSRF-Token": "x" * 40})
    assert forged.status_code == 403
    good = api.client.post("/api/v1/privacy/reveal", json=body, headers={"X-CSRF-Token": token})
    assert good.status_code == 200 and good.json()["value"] == f"telegram:{NATIVE_IDS[1]}"
    assert [e.action for e in audit.entries(api.store, 50)].count("privacy.reveal") == 1


def test_do_not_refer_list_for_investigators(api: Api) -> None:
    ivan, inge = bearer(api.client, "ivan"), bearer(api.client, "inge")
    adam, ana = bearer(api.client, "adam"), bearer(api.client, "ana")
    body = {"kind": "account", "value": f"telegram:{HANDLES[1]}", "reason": SECRET, "days": 30}
    added = api.client.post("/api/v1/privacy/dnr", headers=ivan, json=body)
    assert added.status_code == 201, added.text
    entry = added.json()
    assert (
        entry["owner"] == "ivan" and entry["value"].startswith("telegram:psa_") and entry["reason"] == SECRET
    )
    assert HANDLES[1] not in added.text
    other = api.client.post(
        "/api/v1/privacy/dnr", headers=inge, json={"kind": "domain", "value": "example.org", "reason": "op B"}
    )
    assert other.status_code == 201
    assert [e["id"] for e in api.client.get("/api/v1/privacy/dnr", headers=ivan).json()] == [entry["id"]]
    assert api.client.get("/api/v1/privacy/dnr?all=true", headers=ivan).status_code == 403
    everyone = api.client.get("/api/v1/privacy/dnr?all=true", headers=adam).json()
    assert {e["owner"] for e in everyone} == {"ivan", "inge"} and all(e["reason"] for e in everyone)
    assert api.client.get("/api/v1/privacy/dnr", headers=ana).status_code == 403  # analysts keep none

    # Bad input: a clear 4xx and nothing stored.
    for bad, status in (
        ({**body, "kind": "planet"}, 400),
        ({**body, "value": "sha256-not-hex", "kind": "sha256"}, 400),
        ({**body, "days": 100_000}, 400),
        ({"kind": "url", "value": "https://example.net/x"}, 422),
        ({**body, "owner": "inge"}, 403),
        ({**body, "reason": "op\x00b"}, 422),  # PostgreSQL cannot keep a NUL: refused at the door
        ({**body, "value": "telegram:x\ud800"}, 422),  # nor an unpaired surrogate
    ):
        raw = json.dumps(bad)  # ASCII, so that an unpaired surrogate travels as its JSON escape
        headers = {**ivan, "Content-Type": "application/json"}
        answer = api.client.post("/api/v1/privacy/dnr", headers=headers, content=raw)
        assert answer.status_code == status, (bad, answer.text)
        assert answer.json()["reason"]
    assert len(api.client.get("/api/v1/privacy/dnr?all=true", headers=adam).json()) == 2

    # The analyst is stopped, told whom to contact and not why; the owner is notified.
    for to, extra in (("triage", {}), ("confirmed", {}), ("decision", {"decision": "notice"})):
        move = {"to": to, "reason": f"to {to}", **extra}
        assert (
            api.client.post(f"/api/v1/cases/{api.case_id}/transition", headers=ana, json=move).status_code
            == 200
        )
    blocked = api.client.post(
        f"/api/v1/cases/{api.case_id}/transition", headers=ana, json={"to": "proposed", "reason": "go"}
    )
    assert blocked.status_code == 409 and "contact ivan" in blocked.json()["reason"]
    assert SECRET not in blocked.text
    (note,) = api.client.get("/api/v1/privacy/notifications", headers=ivan).json()
    assert note["case_id"] == api.case_id and note["actor"] == "ana" and SECRET not in note["message"]

    # Only the owner or an admin lifts; a refused lift is audited.
    refused = api.client.post(f"/api/v1/privacy/dnr/{entry['id']}/lift", headers=inge, json={})
    assert refused.status_code == 403 and "only the owner (ivan)" in refused.json()["reason"]
    assert any(e.action == "dnr.lift_refused" and e.actor == "inge" for e in audit.entries(api.store, 100))
    lifted = api.client.post(f"/api/v1/privacy/dnr/{entry['id']}/lift", headers=ivan, json={"note": "done"})
    assert lifted.status_code == 204
    assert (
        api.client.post(f"/api/v1/privacy/dnr/{entry['id']}/lift", headers=ivan, json={}).status_code == 400
    )
    assert (
        api.client.post(f"/api/v1/privacy/dnr/{other.json()['id']}/lift", headers=adam, json={}).status_code
        == 204
    )
    assert api.client.get("/api/v1/privacy/dnr?all=true", headers=adam).json() == []
    moved = api.client.post(
        f"/api/v1/cases/{api.case_id}/transition", headers=ana, json={"to": "proposed", "reason": "go"}
    )
    assert moved.status_code == 200
    assert audit.verify(api.store).ok


def test_hostile_reveal_bodies_get_a_clear_4xx_and_no_clear_value(api: Api) -> None:
    from hypothesis import HealthCheck, example, given, settings
    from hypothesis import strategies as st

    dana = bearer(api.client, "dana")
    clear = [EMAIL, NATIVE_IDS[1], HANDLES[1]]
    pseudonyms = st.one_of(
        st.text(max_size=250), st.sampled_from([api.account, api.email, "psa_" + "f" * 24])
    )

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        pseudonym=pseudonyms,
        code=st.one_of(st.text(max_size=70), st.just("referral_check")),
        text=st.text(max_size=30),
        case_id=st.one_of(st.integers(), st.just(api.case_id)),
    )
    @example(pseudonym=api.account, code="referral_check", text="a real justification", case_id=2**40)
    def check(pseudonym: str, code: str, text: str, case_id: int) -> None:
        body = {"case_id": case_id, "pseudonym": pseudonym, "reason_code": code, "reason_text": text}
        answer = api.client.post("/api/v1/privacy/reveal", headers=dana, json=body)
        if answer.status_code == 200:  # only with a known code, a real justification and the case's own
            assert code == "referral_check" and len(text.strip()) >= 10 and case_id == api.case_id
            return
        assert answer.status_code in (400, 404, 422), answer.text
        assert answer.json()["reason"] and not [c for c in clear if c in answer.text]

    check()
