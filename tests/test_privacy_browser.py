"""Lawful processing in Debian's Chromium (Playwright) against a real uvicorn server: the analyst sees
pseudonyms and no reveal control; the DPO reveals with a reason, sees the value, and sees it hidden again
after ``reveal_show_seconds``; the reveal report counts it; the same for an identifier staff typed into a
transition's reason, masked on the audit page and revealed there for one record; an investigator keeps the
do-not-refer list; a blocked proposal tells the analyst whom to contact, not why; only the owner lifts the
entry."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.privacy_helpers import CLEAR, EMAIL, NATIVE_IDS, make_item, open_case
from tests.test_workflow_browser import ARTIFACTS, CHROMIUM_ARGS, _login, _move
from tests.workflow_helpers import FAST_HASHER, PASSWORD
from vigil.audit import log as audit
from vigil.boot import open_store
from vigil.config import Config
from vigil.store import Store
from vigil.web.app import create_app
from vigil.web.server import serve_in_thread
from vigil.workflow import accounts
from vigil.workflow.transition import transition

pytestmark = pytest.mark.browser
SHOW_SECONDS = 3
SECRET = "operation placeholder-61 under way"
USERS = {"ana": "analyst", "dana": "dpo", "ivan": "investigator", "inge": "investigator", "otto": "auditor"}
TYPED = "@placeholder_user"  # an identifier as staff would type it into a reason (neutral placeholder)


@pytest.fixture
def server(config: Config) -> Iterator[tuple[str, Store, int]]:
    config.extra["privacy"] = {"reveal_show_seconds": SHOW_SECONDS}
    store = open_store(config)
    case_id = open_case(store, make_item(1, email=EMAIL, url="https://example.net/posts/1"))
    for name, role in USERS.items():
        accounts.add_user(store, name, role, PASSWORD, hasher=FAST_HASHER)
    with serve_in_thread(create_app(config, store)) as url:
        yield url, store, case_id
    store.close()


def test_reveal_is_shown_for_a_while_to_the_dpo_only(server: tuple[str, Store, int]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, store, case_id = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            analyst = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(analyst, url, "ana")
            analyst.goto(f"{url}/cases/{case_id}")
            rows = analyst.locator("table.identities tbody tr")
            expect(rows.first).to_contain_text("psa_")
            assert rows.count() >= 4  # account, its handle and name, channel, meta e-mail ...
            assert analyst.locator("button.reveal-identity").count() == 0
            assert analyst.locator("form.reveal-identity").is_hidden()
            page_text = analyst.content()
            assert not [c for c in CLEAR if c in page_text]

            dpo = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(dpo, url, "dana")
            dpo.goto(f"{url}/cases/{case_id}")
            account_row = dpo.locator("table.identities tbody tr", has_text="account").first
            button = account_row.locator("button.reveal-identity")
            expect(button).to_be_visible()
            button.click()  # no justification yet: refused, on the record
            expect(dpo.locator(".reveal-error")).to_contain_text("justification")
            dpo.fill("input[name=reason_text]", "check before the removal order")
            dpo.select_option("select[name=reason_code]", "referral_check")
            value = account_row.locator("output")
            _shown_then_hidden(dpo, button, value, f"telegram:{NATIVE_IDS[1]}", "privacy-reveal")
            assert NATIVE_IDS[1] not in dpo.content()

            dpo.goto(f"{url}/privacy/reveals")
            expect(dpo.locator("#reveal-totals")).to_contain_text("1 reveal, 1 refused")
            expect(dpo.locator("table.reveals-by-actor")).to_contain_text("dana")
            analyst.goto(f"{url}/privacy/reveals")
            expect(analyst.locator("p.error")).to_contain_text("may not read the reveal report")
        finally:
            browser.close()
    actions = [(e.actor, e.action) for e in audit.entries(store, 200)]
    assert ("dana", "privacy.reveal") in actions and ("dana", "privacy.reveal_refused") in actions
    assert all(NATIVE_IDS[1] not in str(e.details) for e in audit.entries(store, 200))
    assert audit.verify(store).ok


def _shown_then_hidden(page: Any, button: Any, value: Any, clear: str, shots: str) -> None:
    """Click Reveal (the reason is filled in): the clear value shows with a countdown, and is hidden
    again after ``reveal_show_seconds``, not before. Screenshots ``<shots>-shown/-hidden.png``."""
    from playwright.sync_api import expect

    clicked_at = time.monotonic()  # before the click: click() may return late on a loaded machine
    button.click()
    expect(value).to_contain_text(clear)
    expect(button).to_contain_text("Hidden in")
    page.screenshot(path=str(ARTIFACTS / f"{shots}-shown.png"), full_page=True)
    expect(value).to_be_hidden(timeout=(SHOW_SECONDS + 5) * 1000)
    assert time.monotonic() - clicked_at >= SHOW_SECONDS - 0.1  # not before its time
    assert value.text_content() == ""
    expect(button).to_have_text("Reveal again")
    page.screenshot(path=str(ARTIFACTS / f"{shots}-hidden.png"), full_page=True)


def test_reveal_of_one_audit_record(server: tuple[str, Store, int]) -> None:
    """A DPO reveals the reason of one audit entry, masked on /audit; an auditor reads the log without a
    Reveal button, and an analyst sees the masked reason in the case history without one."""
    from playwright.sync_api import expect, sync_playwright

    url, store, case_id = server
    transition(store, case_id, "triage", "ana", "analyst", f"asked {TYPED} about the post")
    (entry,) = [e for e in audit.entries(store, 200) if e.action == "case.transition"]
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            dpo = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(dpo, url, "dana")
            dpo.goto(f"{url}/audit")
            row = dpo.locator("table.audit tbody tr", has_text="case.transition")
            expect(row).to_contain_text("@****")
            assert TYPED not in dpo.content()
            button = row.locator(f"button.reveal-record[data-record='audit_log'][data-id='{entry.id}']")
            button.click()  # no justification yet: refused, on the record
            expect(dpo.locator(".reveal-record-error")).to_contain_text("justification")
            form = dpo.locator("form#reveal-record")
            form.get_by_label("Reason").select_option("quality_review")
            form.get_by_label("Justification").fill("quality review of the log, ticket 7")
            _shown_then_hidden(dpo, button, row.locator("output"), TYPED, "privacy-reveal-record")
            assert TYPED not in dpo.content()

            auditor = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(auditor, url, "otto")
            auditor.goto(f"{url}/audit")
            expect(auditor.locator("table.audit")).to_contain_text("case.transition")
            assert auditor.locator("button.reveal-record").count() == 0
            assert auditor.locator("form#reveal-record").count() == 0
            analyst = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(analyst, url, "ana")
            analyst.goto(f"{url}/cases/{case_id}")
            expect(analyst.locator("ol.events")).to_contain_text("asked @")
            assert analyst.locator("button.reveal-record").count() == 0
            assert TYPED not in analyst.content()
            analyst.goto(f"{url}/audit")
            expect(analyst.locator("p.error")).to_contain_text("may not read the audit log")
        finally:
            browser.close()
    reveals = {(e.action, e.target_type) for e in audit.entries(store, 300) if e.actor == "dana"}
    assert {("privacy.reveal", "audit_log"), ("privacy.reveal_refused", "audit_log")} <= reveals
    assert audit.verify(store).ok


def test_investigator_list_and_blocked_proposal(server: tuple[str, Store, int]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, store, case_id = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            ivan = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(ivan, url, "ivan")
            ivan.goto(f"{url}/privacy/dnr")
            ivan.select_option("form.dnr-add select[name=kind]", "domain")
            ivan.fill("form.dnr-add input[name=value]", "example.net")
            ivan.fill("form.dnr-add textarea[name=reason]", SECRET)
            ivan.click("form.dnr-add button[type=submit]")
            expect(ivan.locator("table.dnr")).to_contain_text("example.net")
            expect(ivan.locator("table.dnr")).to_contain_text(SECRET)  # the owner sees the reason
            ivan.select_option("form.dnr-add select[name=kind]", "domain")
            ivan.fill("form.dnr-add input[name=value]", "not a domain")
            ivan.fill("form.dnr-add textarea[name=reason]", "x")
            ivan.click("form.dnr-add button[type=submit]")
            expect(ivan.locator("#dnr-error")).to_contain_text("not a domain name")

            inge = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(inge, url, "inge")
            inge.goto(f"{url}/privacy/dnr")
            expect(inge.locator("table.dnr")).to_contain_text("No entries")
            entry_id = ivan.locator("table.dnr tbody tr").first.get_attribute("data-entry")
            status = inge.evaluate(
                """async ([id]) => {
                    const csrf = document.querySelector('meta[name=csrf-token]').content;
                    const body = new URLSearchParams({csrf});
                    const r = await fetch('/privacy/dnr/' + id + '/lift', {method: 'POST', body});
                    return r.status;
                }""",
                [entry_id],
            )
            assert status == 403  # only the owner or an admin lifts

            analyst = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(analyst, url, "ana")
            analyst.goto(f"{url}/cases/{case_id}")
            _move(analyst, "Start triage", "looks relevant")
            _move(analyst, "Confirm", "matches a known release")
            _move(analyst, "Decide", "removal order fits", ("decision", "removal_order"))
            _move(analyst, "Propose", "please approve")
            error = analyst.locator("#transition-error")
            expect(error).to_contain_text("contact ivan")
            assert SECRET not in analyst.content()
            expect(analyst.locator("#case-state")).to_have_text("decision")
            analyst.screenshot(path=str(ARTIFACTS / "privacy-blocked-proposal.png"), full_page=True)

            ivan.reload()
            expect(ivan.locator("ul.notifications")).to_contain_text(f"ana tried to move case {case_id}")
            ivan.click(f"tr[data-entry='{entry_id}'] form.lift button")
            expect(ivan.locator("table.dnr")).to_contain_text("No entries")
            _move(analyst, "Propose", "please approve")
            expect(analyst.locator("#case-state")).to_have_text("proposed")
        finally:
            browser.close()
    actions = [(e.actor, e.action) for e in audit.entries(store, 300)]
    assert ("ana", "dnr.block") in actions and ("inge", "dnr.lift_refused") in actions
    assert ("ivan", "dnr.lift") in actions
