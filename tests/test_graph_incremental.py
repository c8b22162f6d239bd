"""The loaded graph kept up to date by applying only the rows changed since the version it holds: after
any mix of stored batches and queries it equals a graph loaded afresh from the store (same vertices in
the same order, same edges with the same kinds and weights), on SQLite and PostgreSQL, whether it was
brought up to date by a delta or by the full reload it falls back to; and it stays so while several
threads (and API requests) query it as batches arrive."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
from fastapi.encoders import jsonable_encoder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.workflow_helpers import bearer, make_users
from vigil.config import Config
from vigil.core.model import Account, Item, make_item_id
from vigil.graph.loaded import Loaded, load_whole
from vigil.graph.network import network
from vigil.graph.outlets import register_outlet
from vigil.graph.state import add_counts, bump_version, set_state
from vigil.graph.synthetic import outlet_network
from vigil.graph.tables import graph_edges, graph_nodes
from vigil.graph.update import update_graph
from vigil.graph.view import GraphView
from vigil.store import Store
from vigil.web.app import create_app
from vigil.web.server import serve_in_thread

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def shape(loaded: Loaded) -> dict[str, Any]:
    """Everything the analyses read from a loaded graph, in its order."""
    g = loaded.graph
    return {
        "version": loaded.version,
        "db_id": g.vs["db_id"],
        "kind": g.vs["kind"],
        "edges": g.get_edgelist(),
        "edge_kind": g.es["kind"] if g.ecount() else [],
        "weight": g.es["weight"] if g.ecount() else [],
        "edge_ids": loaded.edge_ids.tolist(),
        "index": loaded.index,
        "top_node": loaded.top_node,
        "ends": loaded.ends.tolist(),
    }


def assert_fresh(store: Store, loaded: Loaded) -> None:
    fresh = load_whole(store)
    assert fresh.version == loaded.version
    assert shape(loaded) == shape(fresh)
    with store.read() as conn:  # and the fresh load is the store itself
        n_edges = conn.execute(select(func.count()).select_from(graph_edges)).scalar_one()
    assert fresh.graph.ecount() == n_edges


def store_and_graph(store: Store, items: list[Item]) -> None:
    store.add_items(items)
    update_graph(store, items)


def halves() -> tuple[list[Item], list[Item]]:
    items, _ = outlet_network(n_mirrors=4, n_spreaders=20, n_bystanders=60, n_releases=6, n_groups=4)
    items.sort(key=lambda i: (i.published or T0, i.id))
    cut = len(items) // 2
    return items[:cut], items[cut:]


def test_a_delta_gives_the_graph_a_full_load_gives(store: Store) -> None:
    first, second = halves()
    store_and_graph(store, first)
    view = GraphView(store)
    before = view.whole()
    assert before.how == "full"
    held = shape(before)
    network(view, limit=50)  # leaves the edge ends and communities in the memo
    store_and_graph(store, second)
    after = view.whole()
    assert after.how == "delta" and after.version > before.version
    assert after.graph.vcount() > before.graph.vcount() and after.graph.ecount() > before.graph.ecount()
    # Some edges held before changed weight (counted again by the second half), and the delta has them.
    old_weight = dict(zip(before.edge_ids.tolist(), before.graph.es["weight"], strict=True))
    new_weight = dict(zip(after.edge_ids.tolist(), after.graph.es["weight"], strict=True))
    assert any(new_weight[i] != w for i, w in old_weight.items())
    assert_fresh(store, after)
    # The one held before is untouched (a request may still be using it), and analyses start over.
    assert shape(before) == held and "community_of:leiden" not in after.memo
    assert network(view, limit=50) == network(GraphView(store), limit=50)
    assert view.whole() is after  # nothing changed since: the same object


def test_outlet_registration_and_succession_are_applied(store: Store) -> None:
    first, second = halves()
    store_and_graph(store, first)
    view = GraphView(store)
    view.whole()
    register_outlet(store, "Outlet Zeta", domains=["zeta-one.example", "zeta-two.example"])
    assert view.whole().how == "delta"
    assert_fresh(store, view.whole())
    store_and_graph(store, second)
    assert_fresh(store, view.whole())


def test_big_delta_or_rebuilt_graph_loads_whole(store: Store) -> None:
    first, second = halves()
    store_and_graph(store, first)
    view = GraphView(store, max_delta=5)
    view.whole()
    store_and_graph(store, second)
    assert view.whole().how == "full"
    assert_fresh(store, view.whole())
    with store.write() as conn:  # the version going back: a rebuilt graph
        set_state(conn, "version", 1)
    assert view.whole().how == "full" and view.whole().version == 1
    assert view.reload().how == "full"


def test_a_row_written_without_its_stamp_is_not_missed(store: Store) -> None:
    """A writer that does not stamp ``touched`` (an older vigil): the delta misses its row, sees fewer
    rows than the store counts, and loads the graph whole instead."""
    first, _ = halves()
    store_and_graph(store, first)
    view = GraphView(store)
    view.whole()
    with store.write() as conn:
        conn.execute(graph_nodes.insert().values(key="domain:unstamped.example", kind="domain", label="x"))
        add_counts(conn, {"domain": 1}, {})
        bump_version(conn)
    loaded = view.whole()
    assert loaded.how == "full" and loaded.graph.vcount() == len(load_whole(store).index)
    assert_fresh(store, loaded)


# ---- interleaved batches and queries (hypothesis) -------------------------------------------------

PEOPLE = [Account("telegram", native_id=f"member{i}", handle=f"member{i}") for i in range(6)]
ROOMS = [Account("telegram", native_id=f"room{i}", handle=f"room{i}", is_channel=True) for i in range(3)]


@st.composite
def placeholder_items(draw: st.DrawFn) -> list[Item]:
    """A batch of neutral placeholder items over a small, shared set of accounts, rooms and domains."""
    out = []
    for _ in range(draw(st.integers(1, 6))):
        native = uuid.uuid4().hex
        out.append(
            Item(
                id=make_item_id("hyp", native),
                source="hyp",
                text="placeholder",
                native_id=native,
                account=draw(st.sampled_from([None, *PEOPLE])),
                channel=draw(st.sampled_from([None, *ROOMS])),
                published=T0 + timedelta(hours=draw(st.integers(0, 500))),
                links=[f"https://site{n}.example/p" for n in draw(st.lists(st.integers(0, 4), max_size=2))],
                forwarded_from=draw(st.sampled_from([None, "telegram:room0", "telegram:member1"])),
            )
        )
    return out


steps = st.lists(
    st.one_of(placeholder_items(), st.sampled_from(["whole", "network", "reload"])), min_size=1, max_size=6
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps, max_delta=st.sampled_from([2, 10_000]))
def test_interleaved_batches_and_queries_match_a_fresh_load(
    store: Store, plan: list[Any], max_delta: int
) -> None:
    view = GraphView(store, max_delta=max_delta)
    for step in plan:
        if isinstance(step, list):
            store_and_graph(store, step)
        elif step == "whole":
            assert_fresh(store, view.whole())
        elif step == "network":
            assert network(view, limit=20)["nodes"] == network(GraphView(store), limit=20)["nodes"]
        else:
            assert_fresh(store, view.reload())
    assert_fresh(store, view.whole())


# ---- several threads at once -------------------------------------------------------------------------


def test_threads_query_while_batches_arrive(store: Store) -> None:
    first, second = halves()
    store_and_graph(store, first)
    view = GraphView(store)
    stop = threading.Event()
    seen: list[Loaded] = []
    failures: list[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                loaded = view.whole()
                seen.append(loaded)
                # A held graph is consistent in itself whatever replaces it meanwhile.
                assert loaded.graph.vcount() == len(loaded.index) == len(set(loaded.graph.vs["db_id"]))
                assert len(loaded.edge_ids) == loaded.graph.ecount()
                assert np.all(np.diff(loaded.edge_ids) > 0)
                network(view, limit=30)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        step = max(1, len(second) // 6)
        for start in range(0, len(second), step):
            store_and_graph(store, second[start : start + step])
    finally:
        stop.set()
        for t in threads:
            t.join(120)
    assert not failures, failures
    assert {loaded.how for loaded in seen} == {"full", "delta"}
    assert_fresh(store, view.whole())


def test_api_requests_at_once_while_batches_arrive(store: Store, config: Config) -> None:
    make_users(store)
    first, second = halves()
    store_and_graph(store, first)
    app = create_app(config, store)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=120) as client:
        headers = bearer(client, "ana")
        paths = ["network?limit=40", "actors?top=5", "communities", "stats"]
        assert all(client.get(f"/api/v1/graph/{p}", headers=headers).status_code == 200 for p in paths)

        def ask(path: str) -> int:
            with httpx.Client(base_url=url, timeout=120) as own:
                return own.get(f"/api/v1/graph/{path}", headers=headers).status_code

        with ThreadPoolExecutor(4) as pool:
            answers = []
            step = max(1, len(second) // 4)
            for start in range(0, len(second), step):
                store_and_graph(store, second[start : start + step])
                answers.extend(pool.map(ask, paths * 2))
        assert answers and set(answers) == {200}
        # The graph is held by the app's analysis process, brought up to date there by deltas.
        held, fresh = app.state.graph_analyses.run("held"), load_whole(store)
        assert held["how"] == "delta"
        assert (held["version"], held["vertices"], held["edges"]) == (
            fresh.version,
            fresh.graph.vcount(),
            fresh.graph.ecount(),
        )
        latest = client.get("/api/v1/graph/network?limit=40", headers=headers).json()
    assert latest["nodes"] == jsonable_encoder(network(GraphView(store), limit=40)["nodes"])
