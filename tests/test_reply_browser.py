"""A provider's reply recorded on the case page in Debian's Chromium (Playwright) against a real uvicorn
server: a removal order sent by webhook to a local server two hours ago; an Annex II typed without the
provider's Member State is refused with the field named and the form kept as typed; once complete, the
case is acknowledged, shows the time to removal the provider reports and the re-check due. Screenshots go
to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from tests.takedown_helpers import Sent, delivered_at, sent_order
from tests.test_workflow_browser import ARTIFACTS, CHROMIUM_ARGS, _login
from tests.workflow_helpers import make_users
from vigil.audit import log as audit
from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import utcnow
from vigil.referral.replies import replies_for
from vigil.store import Store
from vigil.web.app import create_app
from vigil.web.server import serve_in_thread

pytestmark = pytest.mark.browser
MINUTE = "%Y-%m-%dT%H:%M"


@pytest.fixture
def server(config: Config) -> Iterator[tuple[str, Store, Sent, datetime]]:
    store = open_store(config)
    make_users(store)
    with sent_order(store, config) as done:
        delivered = utcnow().replace(second=0, microsecond=0) - timedelta(hours=2)
        delivered_at(store, done.document["id"], delivered)
        with serve_in_thread(create_app(done.config, store)) as url:
            yield url, store, done, delivered
    store.close()


def test_record_a_removal_in_chromium(server: tuple[str, Store, Sent, datetime]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, store, done, delivered = server
    doc = done.document
    removed_at = (delivered + timedelta(minutes=45)).strftime(MINUTE)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            vera = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(vera, url, "vera")
            vera.goto(f"{url}/cases/{done.case_id}")
            expect(vera.locator("#case-state")).to_have_text("sent")
            expect(vera.locator("#time-to-removal")).to_contain_text("not seen removed yet")
            panel = vera.locator(f"details#reply-{doc['id']}")
            panel.locator("summary").click()
            form = panel.locator("form.reply")
            form.get_by_label("Reply").select_option("annex_ii")
            expect(form.get_by_label("Order reference")).to_have_value(doc["reference"])
            form.get_by_label("Provider", exact=True).fill("Placeholder Hosting B.V.")
            form.get_by_label("Measure").select_option("removed")
            form.get_by_label("Time of removal (UTC)").fill(removed_at)
            form.get_by_role("button", name="Record reply").click()
            error = vera.locator("#reply-error")
            expect(error).to_have_text("Annex II: 'member_state' is required")
            expect(form.get_by_label("Provider", exact=True)).to_have_value("Placeholder Hosting B.V.")
            expect(form.get_by_label("Time of removal (UTC)")).to_have_value(removed_at)
            vera.screenshot(path=str(ARTIFACTS / "reply-refused.png"), full_page=True)
            assert replies_for(store, doc["id"]) == []

            form.get_by_label("Provider's Member State").fill("NL")
            form.get_by_role("button", name="Record reply").click()
            expect(vera.locator("#case-state")).to_have_text("acknowledged")
            expect(vera.locator("#reported-removal")).to_contain_text(
                "0.75 h reported by the provider (Annex II); a re-check is due to confirm it"
            )
            row = vera.locator(f"table.documents tr[data-document='{doc['id']}']")
            expect(row.locator("td.status")).to_contain_text("executed")
            expect(row.locator("ul.replies")).to_contain_text("annex ii by vera: removed")
            expect(vera.locator("table.watches .next-check")).to_be_visible()
            expect(vera.locator("ol.events")).to_contain_text("provider reply: annex ii")
            vera.screenshot(path=str(ARTIFACTS / "reply-recorded.png"), full_page=True)
        finally:
            browser.close()
    (reply,) = replies_for(store, doc["id"])
    assert reply["recorded_by"] == "vera" and reply["data"]["member_state"] == "NL"
    actions = {(e.actor, e.action) for e in audit.entries(store, 500)}
    assert ("vera", "referral.reply.annex_ii") in actions
    assert audit.verify(store).ok
    assert (ARTIFACTS / "reply-recorded.png").stat().st_size > 1000
