"""The case page's referral forms over HTTP (httpx against a real uvicorn server, SQLite and PostgreSQL):
who may post them (session, CSRF, role), what a malformed field gets (422 naming the field), and that the
workflow's refusals come back as the case page with the reason, never a 500."""

from __future__ import annotations

import html
import json
import string
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.evidence_helpers import approve, review_to
from tests.local_servers import Page, free_port, web_server
from tests.referral_web_helpers import PROVIDER, Browsers, referral_config, register_provider
from tests.test_referral_delivery import SECRET
from tests.workflow_helpers import make_users, seed_case
from vigil.audit import log as audit
from vigil.config import Config
from vigil.net.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from vigil.referral.documents import documents_for_case
from vigil.store import Store
from vigil.web.app import create_app
from vigil.web.server import serve_in_thread


@dataclass(kw_only=True)
class Web(Browsers):
    store: Store
    config: Config
    case_id: int


@pytest.fixture
def web(store: Store, config: Config) -> Iterator[Web]:
    cfg = referral_config(config)
    # nothing listens there: a delivery that fails, recorded as such
    cfg.extra["smtp"] = {"host": "127.0.0.1", "port": free_port(), "from": "iru@authority.test", "timeout": 5}
    make_users(store)
    case_id = seed_case(store)
    review_to(store, case_id, "removal_order")
    with serve_in_thread(create_app(cfg, store)) as url:
        found = Web(store=store, config=cfg, url=url, case_id=case_id)
        try:
            yield found
        finally:
            found.close()


def order_form(csrf: str, **fields: object) -> dict[str, object]:
    return {
        "csrf": csrf,
        "kind": "removal_order",
        "provider": PROVIDER,
        "grounds": ["a"],
        "reasons": "placeholder reasons",
        "withhold_weeks": "0",
        "lang": "en",
        **fields,
    }


def test_who_may_draft(web: Web) -> None:
    path = f"/cases/{web.case_id}/documents"
    anonymous, _ = web.client()
    assert anonymous.post(path, data=order_form("x")).headers["location"] == "/login"
    ana, csrf = web.client("ana")
    missing = ana.post(path, data=order_form(""))
    assert missing.status_code == 403 and "CSRF" in missing.text
    wrong = ana.post(path, data=order_form("not-the-token"))
    assert wrong.status_code == 403
    for user in ("otto", "adam"):  # auditor and admin read cases but do not work them
        client, token = web.client(user)
        refused = client.post(path, data=order_form(token))
        assert refused.status_code == 403 and "may not draft or send documents" in refused.text
    assert documents_for_case(web.store, web.case_id) == []
    done = ana.post(path, data=order_form(csrf))
    assert done.status_code == 303 and done.headers["location"] == f"/cases/{web.case_id}#referral"
    (doc,) = documents_for_case(web.store, web.case_id)
    assert doc["created_by"] == "ana" and doc["provider"] == PROVIDER
    assert doc["body"]["section_b"]["grounds"]["a"] is True
    assert web.store.get_case(web.case_id).state == "proposed"  # type: ignore[union-attr]
    assert any(e.action == "referral.removal_order" and e.actor == "ana" for e in audit.entries(web.store))


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"kind": "poster"}, "kind: one of removal_order"),
        ({"provider": ""}, "provider: choose"),
        ({"provider": "nobody-known"}, "no provider 'nobody-known' in the registry"),
        ({"withhold_weeks": "seven"}, "withhold_weeks: a whole number of weeks from 0 to 6"),
        ({"withhold_weeks": "9"}, "withhold_weeks: a whole number"),
        ({"grounds": ["z"]}, "grounds: 'z' is not a, b, c, d or e"),
        ({"urls": "ftp://files.example.test/x"}, "urls: 'ftp://files.example.test/x' is not an http(s)"),
        ({"urls": "https://"}, "is not an http(s) URL"),
        ({"lang": "xx"}, "lang: one of en"),
        ({"reasons": "nul\x00here"}, "reasons: NUL characters"),
    ],
)
def test_malformed_fields_are_named(web: Web, fields: dict[str, object], says: str) -> None:
    ana, csrf = web.client("ana")
    response = ana.post(f"/cases/{web.case_id}/documents", data=order_form(csrf, **fields))
    assert response.status_code == 422, response.text
    assert 'id="referral-error"' in response.text and says in html.unescape(response.text)
    assert documents_for_case(web.store, web.case_id) == []


def test_refusals_of_the_core_are_shown(web: Web) -> None:
    ana, csrf = web.client("ana")
    path = f"/cases/{web.case_id}/documents"
    no_contact = ana.post(path, data=order_form(csrf, provider="telegram"))  # shipped: contacts to fill
    assert no_contact.status_code == 400
    assert "no contact point e-mail for telegram" in no_contact.text and "platforms.yaml" in no_contact.text
    wrong_kind = ana.post(path, data=order_form(csrf, kind="dsa_notice"))
    assert wrong_kind.status_code == 409 and "needs the decision" in wrong_kind.text
    assert "placeholder reasons" in wrong_kind.text  # what was typed comes back in the form
    undecided = seed_case(web.store, 2)
    early = ana.post(f"/cases/{undecided}/documents", data=order_form(csrf))
    assert early.status_code == 409 and "once the case is confirmed and decided" in early.text
    assert ana.post("/cases/999999/documents", data=order_form(csrf)).status_code == 404
    too_long = ana.post(path, data=order_form(csrf, reasons="x" * 5000))
    assert too_long.status_code == 422
    assert documents_for_case(web.store, web.case_id) == []
    refused = {e.action for e in audit.entries(web.store) if e.actor == "ana"}
    assert "referral.draft_refused" in refused


def test_who_may_send(web: Web) -> None:
    ana, csrf = web.client("ana")
    ana.post(f"/cases/{web.case_id}/documents", data=order_form(csrf))
    (doc,) = documents_for_case(web.store, web.case_id)
    path = f"/documents/{doc['id']}/send"
    email = {"channel": "email", "email": "legal@host.test"}
    assert ana.post(path, data=email).status_code == 403
    otto, token = web.client("otto")
    assert otto.post(path, data={**email, "csrf": token}).status_code == 403
    early = ana.post(path, data={**email, "csrf": csrf})
    assert early.status_code == 409 and "once a second person has approved" in early.text
    assert ana.post("/documents/999999/send", data={**email, "csrf": csrf}).status_code == 404
    bad_channel = ana.post(path, data={"channel": "fax", "csrf": csrf})
    assert bad_channel.status_code == 422 and "channel: one of email, webhook" in bad_channel.text
    bad_hook = ana.post(path, data={"channel": "webhook", "webhook": "not a url", "csrf": csrf})
    assert bad_hook.status_code == 422 and "webhook:" in bad_hook.text
    approve(web.store, web.case_id)
    elsewhere = {"channel": "email", "email": "desk@elsewhere.test", "csrf": csrf}
    refused = ana.post(path, data=elsewhere)
    assert refused.status_code == 403 and "not a destination the registry lists" in html.unescape(
        refused.text
    )
    overridden = ana.post(path, data={**elsewhere, "override_reason": "placeholder reason"})
    assert overridden.status_code == 403 and "may not override" in html.unescape(overridden.text)
    injected = ana.post(path, data={"channel": "email", "email": "a@b.test\r\nBcc: c@d.test", "csrf": csrf})
    assert injected.status_code == 400 and "not one plain e-mail address" in injected.text
    failed = ana.post(path, data={**email, "csrf": csrf})
    assert failed.status_code == 502
    assert "is recorded under the document's deliveries" in html.unescape(failed.text)
    assert 'class="failed-line"' in failed.text and "ConnectionRefusedError" in failed.text
    hook_unset = ana.post(path, data={"channel": "webhook", "webhook": "http://127.0.0.1:9/x", "csrf": csrf})
    assert hook_unset.status_code == 503 and "[webhook] secret" in hook_unset.text
    assert web.store.get_case(web.case_id).state == "approved"  # type: ignore[union-attr]
    web.config.extra["webhook"] = {"secret": SECRET, "retries": 0}
    with web_server() as hook:
        hook.pages["/hook"] = Page(200, b"ok")
        register_provider(web.config, hook.url("/hook"))
        sent = ana.post(path, data={"channel": "webhook", "webhook": hook.url("/hook"), "csrf": csrf})
        assert sent.status_code == 303, sent.text
        ((_path, headers, body),) = hook.requests
    assert verify(SECRET.encode(), headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert json.loads(body)["reference"] == doc["reference"]
    assert web.store.get_case(web.case_id).state == "sent"  # type: ignore[union-attr]
    page = ana.get(f"/cases/{web.case_id}").text
    assert f"webhook → <code>{hook.url('/hook')}</code> delivered" in page


SHORT = ["", "0", "a", "6", "removal_order"]
text = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(SHORT)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["removal_order", "dsa_notice", "voluntary_referral"]) | text,
    provider=st.sampled_from([PROVIDER, "telegram"]) | text,
    urls=st.sampled_from(["", "https://example.invalid/x"]) | text,
    grounds=st.lists(st.sampled_from(list(string.ascii_lowercase[:6])) | text, max_size=4),
    weeks=text,
    lang=st.sampled_from(["en", "xx"]) | text,
    reasons=text,
)
def test_hostile_draft_forms_get_a_clear_answer(
    web: Web,
    kind: str,
    provider: str,
    urls: str,
    grounds: list[str],
    weeks: str,
    lang: str,
    reasons: str,
) -> None:
    ana, csrf = web.session("ana")
    fields = order_form(
        csrf, kind=kind, provider=provider, urls=urls, grounds=grounds, withhold_weeks=weeks, lang=lang
    )
    response = ana.post(f"/cases/{web.case_id}/documents", data={**fields, "reasons": reasons})
    assert response.status_code in (303, 400, 409, 422), response.text
    if response.status_code != 303:
        assert 'id="referral-error"' in response.text or '"reason"' in response.text
