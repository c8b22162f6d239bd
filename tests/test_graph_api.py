"""The graph's HTTP router (same queries as the CLI) and the network view in Chromium."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import networkx as nx
import pytest
import uvicorn
from fastapi import FastAPI

from vigil.api.graph import router, ui_router
from vigil.config import Config
from vigil.graph.outlets import register_outlet
from vigil.graph.synthetic import Truth, outlet_network
from vigil.graph.update import update_graph
from vigil.store import Store

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def build(store: Store, home: Path) -> Truth:
    items, truth = outlet_network(n_mirrors=6, n_spreaders=40, n_bystanders=150, n_releases=9, n_groups=5)
    register_outlet(store, truth.outlet, channels=[truth.main_channel], domains=[truth.domains[0]])
    store.add_items(items)
    update_graph(store, items)
    return truth


def make_app(store: Store) -> FastAPI:
    app = FastAPI()
    app.state.store = store
    app.include_router(router)
    app.include_router(ui_router)
    return app


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run the app with uvicorn on 127.0.0.1, port 0, in a thread; stop it afterwards."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "server did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_router_answers_the_cli_queries(store: Store, home: Path) -> None:
    truth = build(store, home)
    with serve(make_app(store)) as base, httpx.Client(base_url=base, timeout=60) as client:
        _check_queries(client, store, home, truth)


def _check_queries(client: httpx.Client, store: Store, home: Path, truth: Truth) -> None:
    stats = client.get("/graph/stats").json()
    assert stats["items_graphed"] > 0 and stats["nodes_by_kind"]["outlet"] == 3
    assert store.identities is not None

    def node(clear_key: str) -> str:
        return "account:" + store.identities.account_key(clear_key)  # type: ignore[union-attr]

    ranked = client.get("/graph/actors", params={"outlet": truth.outlet, "top": 5}).json()
    assert {r["key"] for r in ranked[:3]} == {node(a) for a in truth.admins}
    chain = client.get("/graph/lineage", params={"outlet": truth.outlet}).json()
    assert [r["domain"] for r in chain] == truth.domains
    top = client.get("/graph/spreaders", params={"top": 10}).json()
    assert top and {r["key"] for r in top} <= {node(s) for s in truth.spreaders}
    assert client.get("/graph/actors").status_code == 200
    communities = client.get("/graph/communities").json()
    assert communities["count"] >= 2 and sum(c["size"] for c in communities["communities"]) <= stats["nodes"]
    admin = node(truth.admins[0])
    around = client.get("/graph/ego", params={"node": admin}).json()
    assert around["center"]["key"] == admin and around["edges"]
    path = client.get("/graph/path", params={"source": admin, "target": "domain:" + truth.domains[2]}).json()
    assert path["found"] and path["nodes"][0]["key"] == admin
    net = client.get("/graph/network", params={"kind": ["account", "channel"], "limit": 50}).json()
    assert 0 < len(net["nodes"]) <= 50 and {n["kind"] for n in net["nodes"]} <= {"account", "channel"}
    detail = client.get(f"/graph/nodes/{net['nodes'][0]['id']}").json()
    assert detail["edges"] and detail["items"]
    export = client.get("/graph/export", params={"format": "graphml"})
    assert export.status_code == 200
    g = nx.read_graphml(io.BytesIO(export.content))
    assert g.number_of_nodes() == stats["nodes"] and g.number_of_edges() == stats["edges"]


def test_router_rejects_bad_requests(store: Store, home: Path) -> None:
    with serve(make_app(store)) as base, httpx.Client(base_url=base, timeout=60) as client:
        _check_rejections(client)


def _check_rejections(client: httpx.Client) -> None:
    assert client.get("/graph/lineage", params={"outlet": "nobody"}).status_code == 404
    assert client.get("/graph/ego", params={"node": "domain:none.example"}).status_code == 404
    assert client.get("/graph/ego", params={"node": "x", "radius": 9}).status_code == 422
    assert client.get("/graph/communities", params={"method": "magic"}).status_code == 422
    assert client.get("/graph/export", params={"format": "pdf"}).status_code == 422
    assert client.get("/graph/network", params={"since": "not a date"}).status_code == 422
    assert client.get("/graph/nodes/99999999").status_code == 404
    assert client.get("/graph/assets/..%2F..%2Fconfig.py").status_code == 404
    assert client.get("/graph/actors", params={"outlet": "x" * 5000}).status_code == 422


@pytest.fixture
def served(config: Config, home: Path) -> Iterator[tuple[str, Truth]]:
    store = Store.open(config)
    truth = build(store, home)
    try:
        with serve(make_app(store)) as base:
            yield base, truth
    finally:
        store.close()


@pytest.mark.browser
def test_network_view_draws_filters_and_shows_a_node(served: tuple[str, Truth]) -> None:
    from playwright.sync_api import sync_playwright

    base, truth = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(base + "/graph/view")
            page.wait_for_function("Number(document.body.dataset.nodes || 0) > 0", timeout=30_000)
            assert page.locator("#network canvas").count() == 1
            drawn = int(page.evaluate("document.body.dataset.nodes"))
            assert page.locator("#node-list tbody tr").count() == drawn
            # Filter: only outlets.
            for box in page.locator("#kinds input").all():
                box.set_checked(box.get_attribute("value") == "outlet")
            page.click("#filters button[type=submit]")
            page.wait_for_function("document.body.dataset.nodes === '3'", timeout=15_000)
            kinds = page.locator("#node-list tbody tr td:first-child").all_inner_texts()
            assert kinds == ["outlet"] * 3
            # Click a row: the node's edges and items appear.
            page.locator("#node-list tbody tr").first.click()
            page.wait_for_selector("#node-items li", timeout=15_000)
            assert page.locator("#node-edges li").count() > 0
            # The outlet timeline lists the domains in order.
            page.select_option("#outlet", truth.outlet)
            page.wait_for_selector("#timeline li", timeout=15_000)
            assert (
                page.locator("#timeline li").evaluate_all("els => els.map(e => e.dataset.domain)")
                == truth.domains
            )
        finally:
            browser.close()
