"""Source health over the API (real uvicorn, SQLite and PostgreSQL) and on the UI's page in Debian's
Chromium: sources read for real by the watch runner from a local feed server, one of them failing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update

from tests.webserver import Reply, serve
from tests.workflow_helpers import FAST_HASHER, PASSWORD, bearer, make_users
from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import utcnow
from vigil.net.guard import StaticResolver
from vigil.store import Store
from vigil.watch.registry import add_source
from vigil.watch.runner import WatchRunner
from vigil.watch.tables import watch_sources
from vigil.web import charts
from vigil.web.api.watch import SourcesOut
from vigil.web.app import create_app
from vigil.web.server import serve_in_thread
from vigil.workflow import accounts

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
#: New posts before each run of the good feed: 2, none (answered 304), 3.
NEW_POSTS = (2, 0, 3)


class Feeds:
    def __init__(self) -> None:
        self.posts: list[str] = []

    def route(self, host: str, path: str, headers: dict[str, str]) -> Reply:
        if path == "/down.jsonl":
            return 503, {}, b"down"
        body = "".join(json.dumps({"id": p, "text": "a neutral post"}) + "\n" for p in self.posts).encode()
        etag = f'"{len(self.posts)}"'
        if headers.get("if-none-match") == etag:
            return 304, {"ETag": etag}, b""
        return 200, {"Content-Type": "application/x-ndjson", "ETag": etag}, body


def watch_some_sources(store: Store, home: Path) -> None:
    """Three sources: one read three times, one failing twice, one never run (disabled)."""
    config = Config.load(home, allow_private_addresses=True)
    feeds = Feeds()
    with serve(feeds.route) as web:
        add_source(store, "good-feed", "feed", web.url("feeds.test", "/good.jsonl"), interval_s=10)
        add_source(store, "down-feed", "feed", web.url("feeds.test", "/down.jsonl"), interval_s=10)
        add_source(store, "later", "folder", str(home / "nothing-yet"))
        with store.write() as conn:
            conn.execute(update(watch_sources).where(watch_sources.c.name == "later").values(enabled=False))
        runner = WatchRunner(config, store, [], resolver=StaticResolver({"feeds.test": "127.0.0.1"}))
        for new in NEW_POSTS:
            feeds.posts += [f"p{len(feeds.posts) + i}" for i in range(new)]
            with store.write() as conn:
                conn.execute(update(watch_sources).values(next_due_at=utcnow() - timedelta(seconds=1)))
            if new == 0:  # the failing source is run twice, not three times
                with store.write() as conn:
                    conn.execute(
                        update(watch_sources)
                        .where(watch_sources.c.name == "down-feed")
                        .values(next_due_at=utcnow() + timedelta(hours=1))
                    )
            runner.run_due()


@pytest.fixture
def api(store: Store, config: Config) -> Iterator[httpx.Client]:
    make_users(store)
    watch_some_sources(store, config.home)
    with serve_in_thread(create_app(config, store)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def test_source_health_api(api: httpx.Client) -> None:
    assert api.get("/api/v1/watch/sources").status_code == 401
    who = bearer(api, "otto")  # an auditor may look too
    listed = api.get("/api/v1/watch/sources", headers=who)
    assert listed.status_code == 200, listed.text
    rows = listed.json()["sources"]
    SourcesOut.model_validate(listed.json(), strict=True)  # the documented schema is what comes back
    assert [r["name"] for r in rows] == ["down-feed", "good-feed", "later"]  # failing first
    down, good, later = rows
    assert (down["health"], down["consecutive_failures"], down["backoff_s"]) == ("failing", 2, 40.0)
    assert "HTTP 503" in down["last_error"] and down["last_success_at"] is None
    assert [r["ok"] for r in down["runs"]] == [False, False]
    assert good["health"] == "ok" and good["items_total"] == 5 and good["backoff_s"] is None
    assert [r["new_items"] for r in good["runs"]] == list(NEW_POSTS)
    assert [r["items"] for r in good["runs"]] == [2, 0, 5]
    assert good["running"] is False and good["lease_owner"] is None
    assert later["health"] == "disabled" and later["runs"] == [] and later["last_run_at"] is None
    few = api.get("/api/v1/watch/sources", headers=who, params={"runs": 1}).json()["sources"]
    assert [len(r["runs"]) for r in few] == [1, 1, 0]
    one = api.get("/api/v1/watch/sources/good-feed", headers=who, params={"runs": 2})
    assert one.status_code == 200 and [r["new_items"] for r in one.json()["runs"]] == [0, 3]
    missing = api.get("/api/v1/watch/sources/nope", headers=who)
    assert missing.status_code == 404 and "nope" in missing.json()["reason"]
    assert api.get("/api/v1/watch/sources", headers=who, params={"runs": 501}).status_code == 422
    assert api.get("/api/v1/watch/sources", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert "/api/v1/watch/sources" in api.get("/openapi.json").json()["paths"]


@pytest.mark.browser
def test_source_health_page_in_chromium(config: Config) -> None:
    from playwright.sync_api import expect, sync_playwright

    from tests.test_workflow_browser import CHROMIUM_ARGS

    store = open_store(config)
    accounts.add_user(store, "ana", "analyst", PASSWORD, hasher=FAST_HASHER)
    watch_some_sources(store, config.home)
    ARTIFACTS.mkdir(exist_ok=True)
    with serve_in_thread(create_app(config, store)) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
            page.goto(f"{url}/sources")
            page.wait_for_url(f"{url}/login")  # not logged in: to the log-in page
            page.fill("input[name=username]", "ana")
            page.fill("input[name=password]", PASSWORD)
            page.click("form.login button[type=submit]")
            page.wait_for_url(f"{url}/")
            page.click("header nav a:has-text('Sources')")
            page.wait_for_url(f"{url}/sources")
            rows = page.locator("table.sources tbody tr")
            expect(rows).to_have_count(3)
            assert [rows.nth(i).get_attribute("data-source") for i in range(3)] == [
                "down-feed",
                "good-feed",
                "later",
            ]
            down = page.locator("tr[data-source=down-feed]")
            expect(down.locator(".health")).to_have_text("failing")
            expect(down.locator(".failures")).to_have_text("2")
            expect(down.locator(".backoff")).to_have_text("back-off 40 s")
            expect(down.locator(".last-error")).to_contain_text("HTTP 503")
            expect(down.locator(".last-success")).to_have_text("never")
            assert down.locator(".health").evaluate("el => getComputedStyle(el).backgroundColor") == (
                "rgb(254, 202, 202)"
            )
            good = page.locator("tr[data-source=good-feed]")
            expect(good.locator(".items")).to_contain_text("5")
            expect(good.locator(".items")).to_contain_text("last run: 3 new")
            expect(page.locator("tr[data-source=later] .next")).to_have_text("disabled")
            good_chart = page.locator("figure[data-source=good-feed] svg.chart")
            expect(good_chart.locator("rect.run")).to_have_count(3)
            heights = good_chart.locator("rect.run").evaluate_all("els => els.map(e => e.getBBox().height)")
            assert heights[2] > heights[0] > heights[1] > 0  # 3, 2 and 0 new items (a sliver: it ran)
            expect(good_chart.locator("rect.run >> nth=2 >> title")).to_contain_text("3 new of 5 read")
            expect(page.locator("figure[data-source=down-feed] rect.run.failed")).to_have_count(2)
            expect(page.locator("figure[data-source=good-feed] figcaption")).to_contain_text("last 3 runs")
            assert page.locator("figure[data-source=later]").count() == 0
            page.screenshot(path=str(ARTIFACTS / "watch-sources.png"), full_page=True)
        finally:
            browser.close()
    store.close()
    assert (ARTIFACTS / "watch-sources.png").stat().st_size > 1000


@given(
    st.lists(
        st.tuples(
            st.datetimes(
                min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
            ),
            st.integers(0, 10**9),
            st.booleans(),
            st.text(max_size=200),
        ),
        max_size=80,
    )
)
def test_runs_chart_is_well_formed_svg_for_any_runs(runs: list[tuple[datetime, int, bool, str]]) -> None:
    """Server error texts end up in the tooltips: whatever they hold, the SVG stays well-formed."""
    points = sorted(((w, float(v), ok, tip) for w, v, ok, tip in runs), key=lambda p: p[0])
    svg = charts.runs("<a title> & more", points)
    root = ElementTree.fromstring(svg)
    rects = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if "run" in (r.get("class") or "")]
    assert len(rects) == len(points)
    assert [("failed" in (r.get("class") or "")) for r in rects] == [not p[2] for p in points]
    for rect in rects:
        assert float(rect.get("height") or -1) >= 0 and float(rect.get("y") or -1) >= 0
