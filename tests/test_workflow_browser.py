"""The review UI in Debian's Chromium (Playwright, sync API) against a real uvicorn server: log in, work a
case from new to approved with two users, check the blur and the audited reveal, save screenshots."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.workflow_helpers import FAST_HASHER, PASSWORD, seed_case
from vigil.audit import log as audit
from vigil.boot import open_store
from vigil.config import Config
from vigil.store import Store
from vigil.store.media import MediaSink
from vigil.web.app import create_app
from vigil.web.server import serve_in_thread
from vigil.workflow import accounts

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _drawn_png() -> bytes:
    image = Image.new("RGB", (320, 200), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 150, 180), fill=(200, 30, 30))
    draw.ellipse((170, 40, 300, 170), fill=(30, 90, 200))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def server(config: Config) -> Iterator[tuple[str, Store, int]]:
    store = open_store(config)
    medium = MediaSink(config.media_dir).put_bytes(_drawn_png(), "drawn.png", "image/png")
    case_id = seed_case(store, media=[medium])
    accounts.add_user(store, "ana", "analyst", PASSWORD, hasher=FAST_HASHER)
    accounts.add_user(store, "vera", "verifier", PASSWORD, hasher=FAST_HASHER)
    with serve_in_thread(create_app(config, store)) as url:
        yield url, store, case_id
    store.close()


def _login(page: object, url: str, user: str) -> None:
    page.goto(f"{url}/login")  # type: ignore[attr-defined]
    page.fill("input[name=username]", user)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("form.login button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(f"{url}/")  # type: ignore[attr-defined]


def _move(page: object, label: str, reason: str, select: tuple[str, str] | None = None) -> None:
    page.fill("textarea[name=reason]", reason)  # type: ignore[attr-defined]
    if select:
        page.select_option(f"select[name={select[0]}]", select[1])  # type: ignore[attr-defined]
    page.click(f"form.decide button:has-text('{label}')")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]


def test_review_in_chromium(server: tuple[str, Store, int]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, store, case_id = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            analyst = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(analyst, url, "ana")
            expect(analyst.locator("table.queue")).to_contain_text("placeholder 1")
            expect(analyst.locator(".countdown").first).to_contain_text("left")
            analyst.screenshot(path=str(ARTIFACTS / "workflow-queue.png"), full_page=True)

            analyst.click(f"a[href='/cases/{case_id}'] >> nth=0")
            expect(analyst.locator("#item-text mark").first).to_have_text("placeholder-watch-term")
            expect(analyst.locator("table.matches")).to_contain_text("12")
            image = analyst.locator("img.media")
            filter_before = image.evaluate("el => getComputedStyle(el).filter")
            assert "blur" in filter_before and "grayscale" in filter_before
            analyst.screenshot(path=str(ARTIFACTS / "workflow-case-blurred.png"), full_page=True)
            analyst.click("button.reveal")
            expect(image).to_have_class("media revealed")
            assert image.evaluate("el => getComputedStyle(el).filter") == "none"
            analyst.screenshot(path=str(ARTIFACTS / "workflow-case-revealed.png"), full_page=True)

            _move(analyst, "Start triage", "looks relevant")
            _move(analyst, "Confirm", "matches a known release")
            _move(analyst, "Decide", "removal order fits", ("decision", "removal_order"))
            _move(analyst, "Propose", "please approve")
            expect(analyst.locator("#case-state")).to_have_text("proposed")
            assert analyst.locator("form.decide button:has-text('Approve')").count() == 0
            # A forged approval from the analyst's own session is refused by the server, not just hidden.
            status = analyst.evaluate(
                """async ([id]) => {
                    const body = new URLSearchParams({to: 'approved', reason: 'self',
                        csrf: document.querySelector('meta[name=csrf-token]').content});
                    const r = await fetch('/cases/' + id + '/transition', {method: 'POST', body});
                    return r.status;
                }""",
                [case_id],
            )
            assert status == 403

            verifier = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(verifier, url, "vera")
            verifier.goto(f"{url}/cases/{case_id}")
            expect(verifier.locator("section.why")).to_contain_text("Proposed by ana")
            filter_fresh = verifier.locator("img.media").evaluate("el => getComputedStyle(el).filter")
            assert "blur" in filter_fresh  # a reveal is per reviewer and per view
            _move(verifier, "Approve", "second pair of eyes: agreed")
            expect(verifier.locator("#case-state")).to_have_text("approved")
            verifier.screenshot(path=str(ARTIFACTS / "workflow-case-approved.png"), full_page=True)
            verifier.goto(f"{url}/dashboard")
            assert verifier.locator("svg.chart").count() == 5  # incl. overdue cases per queue
            verifier.screenshot(path=str(ARTIFACTS / "workflow-dashboard.png"), full_page=True)
            verifier.goto(f"{url}/audit")
            expect(verifier.locator("p.error")).to_contain_text("may not read the audit log")
        finally:
            browser.close()
    log = audit.entries(store, 200)
    actions = {(e.actor, e.action) for e in log}
    assert ("ana", "media.reveal") in actions and ("ana", "auth.login") in actions
    assert ("vera", "case.transition") in actions
    assert any(e.action == "case.transition_refused" and e.actor == "ana" for e in log)
    assert store.get_case(case_id).state == "approved"  # type: ignore[union-attr]
    assert audit.verify(store).ok
    assert (ARTIFACTS / "workflow-case-blurred.png").stat().st_size > 1000
