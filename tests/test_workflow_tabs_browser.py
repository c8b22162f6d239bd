"""The queue's tabs in Debian's Chromium against a real server whose config.toml sets shorter review SLAs:
click through the tabs, read their counts, bookmark one, and see countdowns timed by the setting."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.queue_tabs_helpers import EXPECTED_VERA, OVERDUE, SLA_TOML, Seeded, seed_tabs
from tests.test_workflow_browser import ARTIFACTS, CHROMIUM_ARGS, _login
from tests.workflow_helpers import make_users
from vigil.boot import open_store
from vigil.config import Config
from vigil.web.app import create_app
from vigil.web.server import serve_in_thread
from vigil.workflow.tabs import TABS

pytestmark = pytest.mark.browser


@pytest.fixture
def server(config: Config) -> Iterator[tuple[str, Seeded]]:
    (config.home / "config.toml").write_text(SLA_TOML, "utf-8")
    configured = Config.load(config.home)
    store = open_store(configured)
    make_users(store)
    seeded = seed_tabs(store)
    with serve_in_thread(create_app(configured, store)) as url:
        yield url, seeded
    store.close()


def test_queue_tabs_in_chromium(server: tuple[str, Seeded]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, seeded = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(page, url, "vera")
            tabs = page.locator("nav.tabs a")
            expect(tabs).to_have_count(len(TABS))
            for key, count in EXPECTED_VERA.items():
                expect(page.locator(f"nav.tabs a[data-tab={key}] .count")).to_have_text(str(count))
            expect(page.locator("nav.tabs a[aria-current=page]")).to_have_attribute("data-tab", "all")
            rows = page.locator("table.queue tbody tr")
            expect(rows).to_have_count(EXPECTED_VERA["all"])

            # The countdowns follow [workflow.sla]: a fresh official_release case has 2 h, not 4 h.
            fresh = page.locator(f"tr:has(a[href='/cases/{seeded['new_fresh']}']) .countdown")
            expect(fresh).to_have_text(re.compile(r"^review \(official_release\): 2h: 1h 5\dm \d+s left$"))
            late = page.locator(f"tr:has(a[href='/cases/{seeded['new_late']}']) .countdown")
            expect(late).to_have_text(re.compile(r"overdue by 1h 0m"))
            expect(late).to_have_class(re.compile(r"\boverdue\b"))
            page.screenshot(path=str(ARTIFACTS / "workflow-queue-tabs.png"), full_page=True)

            for key in ("new", "in_review", "proposed", "approval", "overdue", "mine"):
                page.click(f"nav.tabs a[data-tab={key}]")
                page.wait_for_url(f"{url}/?tab={key}")
                expect(page.locator("nav.tabs a[aria-current=page]")).to_have_attribute("data-tab", key)
                expect(rows).to_have_count(EXPECTED_VERA[key])
                expect(page.locator("table.queue caption")).to_have_text(
                    f"{TABS[key]}: {EXPECTED_VERA[key]} cases"
                )
            overdue_ids = {seeded[name] for name in OVERDUE}
            page.click("nav.tabs a[data-tab=overdue]")
            links = page.locator("table.queue tbody tr td:first-child a")
            assert {int(links.nth(i).inner_text()) for i in range(links.count())} == overdue_ids
            expect(page.locator("table.queue .countdown.overdue")).to_have_count(len(overdue_ids))
            page.screenshot(path=str(ARTIFACTS / "workflow-queue-tab-overdue.png"), full_page=True)

            # A bookmarked tab opens as itself; the filter form keeps the tab.
            page.goto(f"{url}/?tab=approval")
            expect(page.locator("nav.tabs a[aria-current=page]")).to_have_attribute("data-tab", "approval")
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text("placeholder 108")
            page.goto(f"{url}/?tab=new")
            page.select_option("select[name=severity]", "threat_to_life")
            page.click("form.filters button[type=submit]")
            page.wait_for_url(
                re.compile(r"tab=new.*severity=threat_to_life|severity=threat_to_life.*tab=new")
            )
            expect(rows).to_have_count(1)
        finally:
            browser.close()
