"""The graph over HTTP in the real app (``create_app``, uvicorn on 127.0.0.1): the same queries as the
CLI behind the API's authentication, and the network page in Chromium."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import networkx as nx
import pytest

from tests.test_workflow_browser import CHROMIUM_ARGS
from tests.workflow_helpers import PASSWORD, bearer, make_users, seed_case
from vigil.audit.log import entries
from vigil.boot import open_store
from vigil.config import Config
from vigil.graph.outlets import register_outlet
from vigil.graph.synthetic import START, Truth, outlet_network
from vigil.graph.update import update_graph
from vigil.referral.tables import watched_urls
from vigil.referral.watched_urls import watch_in
from vigil.store import Store
from vigil.web.app import create_app
from vigil.web.server import serve_in_thread


def build(store: Store) -> Truth:
    items, truth = outlet_network(n_mirrors=6, n_spreaders=40, n_bystanders=150, n_releases=9, n_groups=5)
    register_outlet(store, truth.outlet, channels=[truth.main_channel], domains=[truth.domains[0]])
    store.add_items(items)
    update_graph(store, items)
    return truth


def record_takedown(store: Store, truth: Truth) -> None:
    """A URL on the outlet's first domain, referred in a case, that a re-check found removed."""
    case_id = seed_case(store)
    referred = START + timedelta(days=1)
    with store.write() as conn:
        watch = watch_in(conn, case_id, f"https://www.{truth.domains[0]}/r/0", referred)
        conn.execute(
            watched_urls.update()
            .where(watched_urls.c.id == watch)
            .values(status="removed", removed_at=referred + timedelta(days=2))
        )


@pytest.fixture
def api(store: Store, config: Config) -> Iterator[tuple[httpx.Client, Store, Truth]]:
    make_users(store)
    truth = build(store)
    with serve_in_thread(create_app(config, store)) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client, store, truth


def test_graph_api_needs_a_login(api: tuple[httpx.Client, Store, Truth]) -> None:
    client, _, truth = api
    for path in ("stats", "outlets", "network", "nodes/1", "export"):
        refused = client.get(f"/api/v1/graph/{path}")
        assert refused.status_code == 401, path
        assert "log in" in refused.json()["reason"]
    assert client.get("/api/v1/graph/lineage", params={"outlet": truth.outlet}).status_code == 401
    wrong = client.get("/api/v1/graph/stats", headers={"Authorization": "Bearer not-a-token"})
    assert wrong.status_code == 401
    page = client.get("/graph", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"
    spec = client.get("/openapi.json").json()
    assert "/api/v1/graph/actors" in spec["paths"]


def test_graph_api_answers_the_cli_queries(api: tuple[httpx.Client, Store, Truth]) -> None:
    client, store, truth = api
    headers = bearer(client, "ana")
    stats = client.get("/api/v1/graph/stats", headers=headers).json()
    assert stats["items_graphed"] > 0 and stats["nodes_by_kind"]["outlet"] == 3
    assert store.identities is not None

    def node(clear_key: str) -> str:
        return "account:" + store.identities.account_key(clear_key)  # type: ignore[union-attr]

    def get(path: str, **params: object) -> httpx.Response:
        return client.get(f"/api/v1/graph/{path}", params=params, headers=headers)  # type: ignore[arg-type]

    ranked = get("actors", outlet=truth.outlet, top=5).json()
    assert {r["key"] for r in ranked[:3]} == {node(a) for a in truth.admins}
    chain = get("lineage", outlet=truth.outlet).json()
    assert [r["domain"] for r in chain] == truth.domains
    top = get("spreaders", top=10).json()
    assert top and {r["key"] for r in top} <= {node(s) for s in truth.spreaders}
    assert get("actors").status_code == 200
    communities = get("communities").json()
    assert communities["count"] >= 2 and sum(c["size"] for c in communities["communities"]) <= stats["nodes"]
    admin = node(truth.admins[0])
    around = get("ego", node=admin).json()
    assert around["center"]["key"] == admin and around["edges"]
    path = get("path", source=admin, target="domain:" + truth.domains[2]).json()
    assert path["found"] and path["nodes"][0]["key"] == admin
    net = client.get(
        "/api/v1/graph/network", params={"kind": ["account", "channel"], "limit": 50}, headers=headers
    ).json()
    assert 0 < len(net["nodes"]) <= 50 and {n["kind"] for n in net["nodes"]} <= {"account", "channel"}
    detail = get(f"nodes/{net['nodes'][0]['id']}").json()
    assert detail["edges"] and detail["items"]
    # Accounts stay pseudonymised in everything the API returns.
    assert "admin0" not in json.dumps([ranked, around, path, net, detail])

    export = get("export", format="graphml")
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/graphml")
    g = nx.read_graphml(io.BytesIO(export.content))
    assert g.number_of_nodes() == stats["nodes"] and g.number_of_edges() == stats["edges"]
    logged = [e for e in entries(store, 50, 0) if e.action == "graph.export"]
    assert logged and logged[0].actor == "ana" and logged[0].details["edges"] == stats["edges"]


def test_graph_api_rejects_bad_requests(api: tuple[httpx.Client, Store, Truth]) -> None:
    client, _, _ = api
    headers = bearer(client, "otto")  # an auditor may look, as with cases

    def status(path: str, **params: object) -> int:
        return client.get(f"/api/v1/graph/{path}", params=params, headers=headers).status_code  # type: ignore[arg-type]

    assert status("stats") == 200
    assert status("lineage", outlet="nobody") == 404
    assert status("ego", node="domain:none.example") == 404
    assert status("ego", node="x", radius=9) == 422
    assert status("communities", method="magic") == 422
    assert status("export", format="pdf") == 422
    assert status("network", since="not a date") == 422
    assert status("nodes/99999999") == 404
    assert status(f"nodes/{2**63}") == 422  # beyond any id the store can hold
    assert status("actors", outlet="x" * 5000) == 422
    # Digits to str.isdigit that int() refuses, and ids past any the store holds: not found, never a 500.
    assert status("path", source="\u00b9", target="\u00b2") == 404
    assert status("ego", node=str(2**70)) == 404
    body = client.get("/api/v1/graph/lineage", params={"outlet": "nobody"}, headers=headers).json()
    assert body["error"] == "not found" and "nobody" in body["reason"]


@pytest.fixture
def served(config: Config) -> Iterator[tuple[str, Truth]]:
    store = open_store(config)
    make_users(store)
    truth = build(store)
    record_takedown(store, truth)
    try:
        with serve_in_thread(create_app(config, store)) as url:
            yield url, truth
    finally:
        store.close()


def redraw(page: Any) -> None:
    """Press Draw and wait until the page has drawn again."""
    from playwright.sync_api import expect

    before = int(page.locator("body").get_attribute("data-draws") or 0)
    page.click("#filters button[type=submit]")
    expect(page.locator("body")).to_have_attribute("data-draws", str(before + 1), timeout=15_000)


@pytest.mark.browser
def test_network_view_draws_filters_and_shows_a_node(served: tuple[str, Truth], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, truth = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(base + "/graph")
            page.wait_for_url(base + "/login")  # not logged in: to the log-in page
            page.fill("input[name=username]", "ana")
            page.fill("input[name=password]", PASSWORD)
            page.click("form.login button[type=submit]")
            page.wait_for_url(base + "/")
            page.click("header.top nav a:has-text('Network')")
            page.wait_for_url(base + "/graph")
            body = page.locator("body")
            expect(body).to_have_attribute("data-nodes", re.compile(r"^[1-9]\d*$"), timeout=30_000)
            assert page.locator("#network canvas").count() == 1
            drawn = int(page.evaluate("document.body.dataset.nodes"))
            assert page.locator("#node-list tbody tr").count() == drawn
            # Filter by node type: only outlets.
            for box in page.locator("#kinds input").all():
                box.set_checked(box.get_attribute("value") == "outlet")
            redraw(page)
            expect(body).to_have_attribute("data-nodes", "3")
            kinds = page.locator("#node-list tbody tr td:first-child").all_inner_texts()
            assert kinds == ["outlet"] * 3
            # Click a row: the node's edges and items appear.
            page.locator("#node-list tbody tr").first.click()
            page.wait_for_selector("#node-items li", timeout=15_000)
            assert page.locator("#node-edges li").count() > 0
            # Filter by time window: a window before any item draws nothing.
            page.fill("#since", "2000-01-01")
            page.fill("#until", "2000-01-31")
            redraw(page)
            expect(body).to_have_attribute("data-nodes", "0")
            page.fill("#since", "")
            page.fill("#until", "")
            # Filter by community: every row drawn is in the chosen community.
            for box in page.locator("#kinds input").all():
                box.set_checked(True)
            options = page.locator("#community option").evaluate_all("os => os.map(o => o.value)")
            assert len(options) >= 3  # "all" and two communities or more
            page.select_option("#community", options[1])
            redraw(page)
            column = page.locator("#node-list tbody tr td:nth-child(3)")
            expect(column.first).to_be_visible()
            assert set(column.all_inner_texts()) == {options[1]}
            # Click a node on the canvas: its details come up.
            expect(body).to_have_attribute("data-stable", "1", timeout=30_000)
            first = int(page.locator("#node-list tbody tr").first.get_attribute("data-id") or 0)
            spot = page.evaluate(
                """id => { const n = window.vigilGraph.network;
                           const at = n.canvasToDOM(n.getPositions([id])[id]);
                           return { x: at.x, y: at.y, id: n.getNodeAt(at) }; }""",
                first,
            )
            box = page.locator("#network canvas").bounding_box()
            assert box is not None and spot["id"] is not None
            label = page.locator(f"#node-list tbody tr[data-id='{spot['id']}'] td:nth-child(2)").inner_text()
            page.mouse.click(box["x"] + spot["x"], box["y"] + spot["y"])
            expect(page.locator("#details h2")).to_have_text(re.compile(": " + re.escape(label) + "$"))
            # The outlet timeline lists the domains in order, with the takedown on the first.
            page.select_option("#outlet", truth.outlet)
            page.wait_for_selector("#timeline li", timeout=15_000)
            assert (
                page.locator("#timeline li").evaluate_all("els => els.map(e => e.dataset.domain)")
                == truth.domains
            )
            assert page.locator("#timeline li.removed").count() == 1
            assert "removed" in page.locator("#timeline li").first.inner_text()
            page.screenshot(path=str(tmp_path / "graph.png"), full_page=True)
            assert not errors
        finally:
            browser.close()
