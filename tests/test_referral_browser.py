"""A case worked from "decided" to "document sent" in Debian's Chromium (Playwright) against a real uvicorn
server: vera drafts a removal order, cannot approve or send it herself, lena approves, vera sends it by
e-mail to an SMTP server the test runs (aiosmtpd, STARTTLS) and the case page shows the delivery. Then the
refusals: a provider whose contacts are not filled in, and a URL on the do-not-refer list. Screenshots go
to test-artifacts/."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest

from tests.evidence_helpers import review_to
from tests.local_servers import SmtpCollect
from tests.referral_web_helpers import PROVIDER, PROVIDER_EMAIL, referral_config
from tests.test_referral_delivery import smtp  # noqa: F401 (the SMTP server fixture)
from tests.test_workflow_browser import ARTIFACTS, CHROMIUM_ARGS, _login
from tests.workflow_helpers import make_users, seed_case
from vigil.audit import log as audit
from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import utcnow
from vigil.privacy.deconfliction import add_entry
from vigil.referral.documents import documents_for_case
from vigil.store import Store
from vigil.web.app import create_app
from vigil.web.server import serve_in_thread

pytestmark = pytest.mark.browser


@pytest.fixture
def server(
    config: Config,
    smtp: tuple[SmtpCollect, int, Path],  # noqa: F811 (the SMTP server fixture)
) -> Iterator[tuple[str, Store, SmtpCollect, int, int]]:
    handler, port, cert = smtp
    cfg = referral_config(config)
    cfg.extra["smtp"] = {"host": "127.0.0.1", "port": port, "from": "iru@authority.test", "cafile": str(cert)}
    store = open_store(cfg)
    make_users(store)
    case_id, other = seed_case(store, 1), seed_case(store, 2)
    for case in (case_id, other):
        review_to(store, case, "removal_order")
    with serve_in_thread(create_app(cfg, store)) as url:
        yield url, store, handler, case_id, other
    store.close()


def test_draft_approve_send_in_chromium(server: tuple[str, Store, SmtpCollect, int, int]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, store, handler, case_id, other = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            vera = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(vera, url, "vera")
            vera.goto(f"{url}/cases/{case_id}")
            draft = vera.locator("form.draft")
            # Defaults from the case: the document its decision calls for, the registry's provider for
            # its URL's host, the URL itself, the reason given for the decision.
            expect(draft.get_by_label("Document")).to_have_value("removal_order")
            expect(draft.get_by_label("Provider (registry)")).to_have_value(PROVIDER)
            expect(draft.get_by_label("URLs, one a line")).to_have_value("https://example.invalid/post/1")
            expect(draft.get_by_label("Reasons")).to_have_value("decided")
            draft.get_by_label("(a) incites").check()
            draft.get_by_label("Reasons").fill("placeholder reasons for the order")
            vera.screenshot(path=str(ARTIFACTS / "referral-draft-form.png"), full_page=True)
            draft.get_by_role("button", name="Draft document").click()
            expect(vera.locator("#case-state")).to_have_text("proposed")
            (doc,) = documents_for_case(store, case_id)
            row = vera.locator(f"table.documents tr[data-document='{doc['id']}']")
            expect(row).to_contain_text(doc["reference"])
            expect(row.locator("td.status")).to_have_text("draft")

            # The author can neither approve nor send her own document: the server says why.
            panel = vera.locator(f".referral-document[data-document='{doc['id']}']")
            panel.get_by_label("Reason for approving").fill("my own")
            panel.get_by_role("button", name="Approve for sending").click()
            expect(vera.locator("#transition-error")).to_contain_text("four eyes: vera moved this case")
            expect(vera.locator("#case-state")).to_have_text("proposed")
            vera.goto(f"{url}/cases/{case_id}")
            panel.get_by_role("button", name="Send", exact=True).click()
            expect(vera.locator("#referral-error")).to_contain_text("once a second person has approved")
            vera.screenshot(path=str(ARTIFACTS / "referral-refused-own.png"), full_page=True)
            assert handler.messages == []

            lena = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(lena, url, "lena")
            lena.goto(f"{url}/cases/{case_id}")
            approving = lena.locator(f".referral-document[data-document='{doc['id']}']")
            approving.get_by_label("Reason for approving").fill("checked the order and the evidence")
            approving.get_by_role("button", name="Approve for sending").click()
            expect(lena.locator("#case-state")).to_have_text("approved")

            vera.goto(f"{url}/cases/{case_id}")
            sending = vera.locator(f".referral-document[data-document='{doc['id']}']")
            expect(sending.get_by_label("Channel")).to_have_value("email")
            expect(sending.get_by_label("E-mail address")).to_have_value(PROVIDER_EMAIL)
            sending.get_by_role("button", name="Send", exact=True).click()
            expect(vera.locator("#case-state")).to_have_text("sent")
            deliveries = vera.locator(f"table.documents tr[data-document='{doc['id']}'] ul.deliveries")
            expect(deliveries).to_contain_text(f"email → {PROVIDER_EMAIL} delivered")
            expect(vera.locator("ol.events")).to_contain_text("removal order sent by email")
            vera.screenshot(path=str(ARTIFACTS / "referral-sent.png"), full_page=True)

            # Refusals: a provider whose contacts are still to be filled in; a URL not to be referred.
            vera.goto(f"{url}/cases/{other}")
            refused = vera.locator("form.draft")
            refused.get_by_label("Provider (registry)").select_option("telegram")
            refused.get_by_label("(a) incites").check()
            refused.get_by_role("button", name="Draft document").click()
            expect(vera.locator("#referral-error")).to_contain_text("no contact point e-mail for telegram")
            expect(vera.locator("#case-state")).to_have_text("decision")
            add_entry(
                store,
                "ivan",
                "url",
                "https://example.invalid/post/2",
                "placeholder",
                utcnow() + timedelta(days=9),
            )
            refused.get_by_label("Provider (registry)").select_option(PROVIDER)
            refused.get_by_role("button", name="Draft document").click()
            expect(vera.locator("#referral-error")).to_contain_text("cannot go further until de-conflicted")
            expect(vera.locator("#referral-error")).to_contain_text("contact ivan")
            expect(vera.locator("#case-state")).to_have_text("decision")
            vera.screenshot(path=str(ARTIFACTS / "referral-refused-dnr.png"), full_page=True)
        finally:
            browser.close()
    ((sender, rcpts, raw),) = handler.messages
    assert sender == "iru@authority.test" and rcpts == [PROVIDER_EMAIL]
    message = email.message_from_bytes(raw, policy=policy.default)
    assert doc["reference"] in str(message["Subject"])
    assert sorted(p.get_filename() for p in message.iter_attachments()) == [
        f"{doc['reference']}.json",
        f"{doc['reference']}.pdf",
    ]
    assert documents_for_case(store, other) == []
    actions = {(e.actor, e.action) for e in audit.entries(store, 500)}
    assert {("vera", "referral.removal_order"), ("vera", "referral.delivery")} <= actions
    assert {("vera", "referral.send_refused"), ("vera", "referral.draft_refused")} <= actions
    assert ("vera", "case.transition_refused") in actions and ("lena", "case.transition") in actions
    assert audit.verify(store).ok
    assert (ARTIFACTS / "referral-sent.png").stat().st_size > 1000
