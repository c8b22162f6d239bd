"""The case page's evidence and takedown panels and the transparency report, in Debian's Chromium
(Playwright) against a real uvicorn server; screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.takedown_helpers import Referred, referred_and_removed
from tests.test_workflow_browser import ARTIFACTS, CHROMIUM_ARGS, _login
from tests.workflow_helpers import make_users
from vigil.audit import log as audit
from vigil.boot import open_store
from vigil.config import Config
from vigil.store import Store
from vigil.web.app import create_app
from vigil.web.server import serve_in_thread

pytestmark = pytest.mark.browser


@pytest.fixture
def server(config: Config) -> Iterator[tuple[str, Store, Referred]]:
    store = open_store(config)
    make_users(store)
    with referred_and_removed(store, config) as done, serve_in_thread(create_app(done.config, store)) as url:
        yield url, store, done
    store.close()


def test_takedown_panels_and_report_in_chromium(server: tuple[str, Store, Referred]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, store, done = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(page, url, "vera")
            page.goto(f"{url}/cases/{done.case_id}")
            panel = page.locator("section#takedown")
            expect(panel).to_be_visible()
            capture = panel.locator("table.captures tr.capture")
            expect(capture).to_have_count(1)
            expect(capture).to_contain_text(done.capture.warc_sha256)
            expect(capture).to_contain_text("ana")
            document = panel.locator("table.documents tr.document")
            expect(document).to_contain_text(done.document["reference"])
            expect(document.locator("td.status")).to_contain_text("executed")
            expect(document.locator("ul.deliveries")).to_contain_text("webhook")
            expect(document.locator("ul.deliveries")).to_contain_text("delivered")
            expect(document.locator("ul.replies")).to_contain_text("annex ii")
            watch = panel.locator("table.watches tr.watch")
            expect(watch.locator("td.status")).to_have_text("removed")
            expect(watch.locator("ol.checks")).to_contain_text("HTTP 410")
            expect(watch.locator("td.ttr")).to_have_text("0.50 h")
            expect(page.locator("#time-to-removal")).to_contain_text("0.50 h from referral")
            # The review path is on the page too: drafted by ana, approved by vera, sent by ana.
            expect(page.locator("ol.events")).to_contain_text("approved by vera")
            page.screenshot(path=str(ARTIFACTS / "takedown-case.png"), full_page=True)

            page.click("header.top nav a:has-text('Takedown')")
            expect(page.locator("h1")).to_have_text("Transparency report")
            expect(page.locator("#orders-issued")).to_have_text("1")
            expect(page.locator("#orders-executed")).to_have_text("1")
            charts = page.locator("svg.chart")
            expect(charts).to_have_count(4)  # rate, median, p95; median reported by the provider (Annex II)
            rate_bar = charts.nth(0).locator("rect title")
            expect(rate_bar).to_have_count(1)
            assert rate_bar.text_content() == "placeholder-host: 100 %"
            expect(charts.nth(1).locator("rect title")).to_have_text("placeholder-host: 0.5 h")
            expect(charts.nth(3).locator("rect title")).to_have_text("placeholder-host: 0 h")
            expect(page.locator("table.providers")).to_contain_text("placeholder-host")
            page.screenshot(path=str(ARTIFACTS / "takedown-report.png"), full_page=True)
            page.goto(f"{url}/reports/transparency?start=2026-02-02&end=2026-02-01")
            expect(page.locator("p.error")).to_contain_text("starts")
        finally:
            browser.close()
    views = [e for e in audit.entries(store, 500) if e.action == "case.view" and e.actor == "vera"]
    assert views and views[-1].details.get("via") == "ui"
    assert (ARTIFACTS / "takedown-report.png").stat().st_size > 1000
