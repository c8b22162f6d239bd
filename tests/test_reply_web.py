"""The case page's form recording a provider's reply, over HTTP (httpx against a real uvicorn server, SQLite
and PostgreSQL): who may post it (session, CSRF, role), what a malformed or hostile field gets (422 naming
the field, never a 500), what the document cannot take (409), and what a valid Annex II does: the case
moves on, shows the time to removal the provider reports, the re-check of the URL is due at once, and the
transparency page's chart has the provider's figure."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.local_servers import Page
from tests.referral_web_helpers import Browsers
from tests.takedown_helpers import Sent, delivered_at, sent_order
from tests.workflow_helpers import make_users
from vigil.audit import log as audit
from vigil.config import Config
from vigil.core.model import utcnow
from vigil.referral.recheck import run_rechecks
from vigil.referral.replies import replies_for
from vigil.referral.tables import referral_documents
from vigil.store import Store
from vigil.web.app import create_app
from vigil.web.server import serve_in_thread

MINUTE = "%Y-%m-%dT%H:%M"  # what a datetime-local field sends
FIELDS = (
    "kind",
    "reference",
    "received_at",
    "provider",
    "member_state",
    "measure_at",
    "measure",
    "reasons",
    "explanation",
    "clarification_requested",
    "clarification",
    "note",
)


@dataclass(kw_only=True)
class Web(Browsers):
    store: Store
    done: Sent
    delivered: datetime

    @property
    def path(self) -> str:
        return f"/documents/{self.done.document['id']}/replies"


@pytest.fixture
def web(store: Store, config: Config) -> Iterator[Web]:
    make_users(store)
    with sent_order(store, config) as done:
        # The order went out two hours ago, on the minute (a datetime-local field has minutes).
        delivered = (utcnow() - timedelta(hours=2)).replace(second=0, microsecond=0)
        delivered_at(store, done.document["id"], delivered)
        with serve_in_thread(create_app(done.config, store)) as url:
            found = Web(store=store, url=url, done=done, delivered=delivered)
            try:
                yield found
            finally:
                found.close()


def removed_form(web: Web, csrf: str, **fields: object) -> dict[str, object]:
    return {
        "csrf": csrf,
        "kind": "annex_ii",
        "reference": web.done.document["reference"],
        "received_at": web.delivered.strftime(MINUTE),
        "provider": "Placeholder Hosting B.V.",
        "member_state": "nl",
        "measure": "removed",
        "measure_at": (web.delivered + timedelta(minutes=30)).strftime(MINUTE),
        **fields,
    }


def _error(page: str) -> str:
    found = re.search(r'id="reply-error">(.*?)</p>', page, re.S)
    assert found is not None, page[:500]
    return html.unescape(found.group(1))


def test_who_may_record_a_reply(web: Web) -> None:
    anonymous, _ = web.client()
    assert anonymous.post(web.path, data=removed_form(web, "x")).headers["location"] == "/login"
    ana, _ = web.client("ana")
    missing = ana.post(web.path, data=removed_form(web, ""))
    assert missing.status_code == 403 and "CSRF" in missing.text
    assert ana.post(web.path, data=removed_form(web, "not-the-token")).status_code == 403
    for user in ("otto", "adam"):  # auditor and admin read cases but do not work them
        client, token = web.client(user)
        refused = client.post(web.path, data=removed_form(web, token))
        assert refused.status_code == 403 and "may not record replies" in refused.text
        assert "cases.work" in refused.text  # refused at the page's gate, as its API twin refuses
    assert replies_for(web.store, web.done.document["id"]) == []


def test_a_removed_reply_updates_the_case_and_the_chart(web: Web) -> None:
    case_id, doc = web.done.case_id, web.done.document
    ana, csrf = web.client("ana")
    before = ana.get("/reports/transparency").text
    assert "placeholder-host: 0.5 h" not in before
    # A re-check already ran (still up): the next one would be an hour away.
    assert run_rechecks(web.store, web.done.config).outcomes == {"up": 1}
    assert run_rechecks(web.store, web.done.config).checked == 0
    page = ana.get(f"/cases/{case_id}").text
    assert f'id="reply-{doc["id"]}"' in page and "Record reply" in page
    assert "reported by the provider" not in page

    done = ana.post(web.path, data=removed_form(web, csrf))
    assert done.status_code == 303, _error(done.text)
    assert done.headers["location"] == f"/cases/{case_id}#reply-{doc['id']}"
    (reply,) = replies_for(web.store, doc["id"])
    assert reply["kind"] == "annex_ii" and reply["recorded_by"] == "ana"
    assert reply["data"]["member_state"] == "NL" and reply["data"]["measure"] == "removed"
    assert web.store.get_case(case_id).state == "acknowledged"  # type: ignore[union-attr]
    page = html.unescape(ana.get(f"/cases/{case_id}").text)
    assert "0.50 h reported by the provider (Annex II); a re-check is due to confirm it" in page
    assert "annex ii</strong> by ana: removed" in page
    entry = next(e for e in audit.entries(web.store, 500) if e.action == "referral.reply.annex_ii")
    assert entry.actor == "ana" and entry.details["rechecks_due"] == 1
    with web.store.read() as conn:
        status = conn.execute(select(referral_documents.c.status)).scalar()
    assert status == "executed"

    after = ana.get("/reports/transparency").text
    assert "Median hours to removal reported by the provider" in after
    assert "placeholder-host: 0.5 h" in after
    figures = ana.get("/api/v1/reports/transparency").json()
    assert figures["providers"]["placeholder-host"]["median_reported_hours_to_removal"] == 0.5

    # The re-check is due at once; it finds the page gone and measures its own time to removal.
    web.done.web.pages["/post/1"] = Page(410, b"gone")
    assert run_rechecks(web.store, web.done.config).outcomes == {"removed": 1}
    assert web.store.get_case(case_id).state == "removed"  # type: ignore[union-attr]
    page = html.unescape(ana.get(f"/cases/{case_id}").text)
    assert re.search(r"Time to removal:</strong>\s*2\.\d\d h from referral", page)
    assert "0.50 h reported by the provider (Annex II)</span>" in page
    assert audit.verify(web.store).ok


@pytest.mark.parametrize(
    ("fields", "status", "says"),
    [
        ({"kind": "shrug"}, 422, "unknown reply kind 'shrug'"),
        ({"measure_at": "soon"}, 422, "'measure_at' is not an ISO date and time"),
        ({"measure_at": ""}, 422, "Annex II: 'measure_at' is required"),
        ({"member_state": "XX"}, 422, "'member_state' must be an EU Member State code"),
        ({"measure": "hidden"}, 422, "'measure' must be 'removed' or 'disabled'"),
        ({"reference": "IRU-0"}, 422, "the reference 'IRU-0' is not that of document"),
        ({"provider": "x" * 4001}, 422, "'provider' is longer than 4000 characters"),
        ({"measure_at": "2999-01-01T00:00"}, 422, "'measure_at' (2999-01-01T00:00:00+00:00) is after"),
        ({"kind": "annex_iii", "reasons": ["force_majeure"]}, 422, "Annex III: 'explanation' is required"),
        ({"kind": "annex_iii", "reasons": ["bribe"]}, 422, "'reasons' must tick one or more"),
        (
            {"kind": "annex_iii", "reasons": ["manifest_error"], "explanation": "wrong URL"},
            422,
            "Annex III: 'clarification_requested' is required",
        ),
        ({"kind": "obstacle_ended"}, 409, "has no open Annex III obstacle"),
    ],
)
def test_malformed_replies_are_named(web: Web, fields: dict[str, object], status: int, says: str) -> None:
    ana, csrf = web.client("ana")
    response = ana.post(web.path, data=removed_form(web, csrf, **fields))
    assert response.status_code == status, response.text[:300]
    assert says in _error(response.text)
    if "explanation" in fields:  # what was typed comes back in the form
        assert ">wrong URL</textarea>" in response.text
    assert replies_for(web.store, web.done.document["id"]) == []
    assert web.store.get_case(web.done.case_id).state == "sent"  # type: ignore[union-attr]


def test_a_nul_in_a_field_is_refused_at_the_door(web: Web) -> None:
    """What the store cannot hold is refused by the boundary (422, naming the field) before the page."""
    ana, csrf = web.client("ana")
    response = ana.post(web.path, data=removed_form(web, csrf, provider="nul\x00here"))
    assert response.status_code == 422 and "form field 'provider'" in response.text
    assert replies_for(web.store, web.done.document["id"]) == []


def test_unknown_document_and_impossible_then_resumed(web: Web) -> None:
    ana, csrf = web.client("ana")
    assert ana.post("/documents/999999/replies", data=removed_form(web, csrf)).status_code == 404
    impossible = removed_form(
        web,
        csrf,
        kind="annex_iii",
        reasons=["manifest_error", "force_majeure"],
        explanation="the URL in the order is incomplete",
        clarification_requested="the complete URL",
    )
    assert ana.post(web.path, data=impossible).status_code == 303
    page = html.unescape(ana.get(f"/cases/{web.done.case_id}").text)
    assert "annex iii</strong> by ana: force majeure, manifest error" in page
    early = ana.post(web.path, data={"csrf": csrf, "kind": "obstacle_ended", "note": "x"})
    assert early.status_code == 422 and "'clarification' is required" in _error(early.text)
    resumed = {"csrf": csrf, "kind": "obstacle_ended", "clarification": "sent the complete URL"}
    assert ana.post(web.path, data=resumed).status_code == 303
    kinds = [r["kind"] for r in replies_for(web.store, web.done.document["id"])]
    assert kinds == ["annex_iii", "obstacle_ended"]
    with web.store.read() as conn:
        doc = conn.execute(select(referral_documents)).mappings().one()
    assert doc["status"] == "sent" and doc["deadline_at"] is not None  # the clock restarted


SHORT = ["", "NL", "removed", "annex_ii", "2026-01-01T00:00", "force_majeure"]
text = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(SHORT)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["annex_ii", "annex_iii", "obstacle_ended", "complaint"]) | text,
    values=st.fixed_dictionaries({k: text for k in FIELDS if k not in ("kind", "reasons")}),
    keep=st.sets(st.sampled_from([k for k in FIELDS if k not in ("kind", "reasons")])),
    reasons=st.lists(st.sampled_from(["force_majeure", "manifest_error"]) | text, max_size=3),
)
@example(  # a kind longer than a known one: the page names the field (was FastAPI's JSON 422)
    kind="k" * 40, values={k: "" for k in FIELDS if k not in ("kind", "reasons")}, keep=set(), reasons=[]
)
def test_hostile_replies_get_a_clear_answer(
    web: Web, kind: str, values: dict[str, str], keep: set[str], reasons: list[str]
) -> None:
    ana, csrf = web.session("ana")
    data = removed_form(web, csrf, kind=kind, reasons=reasons, **{k: values[k] for k in keep})
    response = ana.post(web.path, data=data)
    assert response.status_code in (303, 409, 422), response.text[:300]
    if response.status_code == 422:
        said = _error(response.text)
        assert any(name in said for name in FIELDS), said
