"""Domain lineage whatever order the data came in (issue 16, finding 11).

Each finding has a regression test: domains registered with ``vigil graph outlet add --domain`` get their
``replaces`` link; an archive of an earlier domain scanned after a later one's keeps the link, and one of a
domain in between replaces the link it splits; domains known only from the outlet's own dated links come
out in time order, not name order. A property: any split of the same items into batches, in any order,
with the registration anywhere among them, gives the lineage of one batch in time order. And the cost:
the statements a batch spends on inference do not grow with what else the store holds.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from vigil.core.model import Account, Item, make_item_id
from vigil.errors import UsageError
from vigil.graph.lineage import lineage
from vigil.graph.loaded import load_whole
from vigil.graph.outlets import record_succession, register_outlet
from vigil.graph.state import count_rows, get_state
from vigil.graph.tables import graph_edges, graph_items, graph_nodes, graph_state
from vigil.graph.update import UpdateResult, update_graph
from vigil.graph.view import GraphView
from vigil.store import Store

T0 = datetime(2024, 1, 1, tzinfo=UTC)
OUTLET = "Outlet Lineage"
CHANNEL = Account("telegram", native_id="lineage_main", handle="lineage_main", is_channel=True)
SEQ = iter(range(10**9))


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def page(domain: str, at: datetime, outlet: str | None = OUTLET) -> Item:
    """A page of the outlet's site (attributed by ``meta.outlet``, or by the domain's registration)."""
    n = next(SEQ)
    meta = {"outlet": outlet} if outlet else {}
    return Item(
        id=make_item_id("lin", f"page-{n}"),
        source="lin",
        text="placeholder page",
        native_id=f"page-{n}",
        url=f"https://{domain}/p/{n}",
        published=at,
        meta=meta,
    )


def post(links: Sequence[str], at: datetime) -> Item:
    """A post of the outlet's channel (no account: the channel speaks), linking to its domains."""
    n = next(SEQ)
    return Item(
        id=make_item_id("lin", f"post-{n}"),
        source="lin",
        text="placeholder post",
        native_id=f"post-{n}",
        channel=CHANNEL,
        published=at,
        links=[f"https://{d}/" for d in links],
    )


def graph(store: Store, items: Sequence[Item]) -> UpdateResult:
    store.add_items(list(items))
    return update_graph(store, list(items))


def chain(store: Store, outlet: str = OUTLET) -> list[tuple[str, str | None, bool | None]]:
    return [(row["domain"], row["replaces"], row["inferred"]) for row in lineage(store, outlet)]


def consistent(store: Store) -> None:
    """The node and edge counts kept with the version match the tables (an inferred edge removed too)."""
    with store.read() as conn:
        kept, counted = get_state(conn, "counts"), count_rows(conn)
    assert kept == counted


# ---- the three findings ----------------------------------------------------------------------------------


def test_registered_domains_get_their_replaces_link(store: Store) -> None:
    """Registered first, then their pages arrive: each page updates a ``part-of`` edge that already
    existed, which the inference used to ignore (it looked only at edges new in the batch)."""
    register_outlet(store, OUTLET, domains=["reg-one.example", "reg-two.example", "reg-three.example"])
    graph(store, [page("reg-one.example", day(d), outlet=None) for d in (0, 5, 10)])
    graph(store, [page("reg-two.example", day(d), outlet=None) for d in (20, 30)])
    result = graph(store, [page("reg-three.example", day(d), outlet=None) for d in (40, 50)])
    assert result.successions == 1
    assert chain(store) == [
        ("reg-one.example", None, None),
        ("reg-two.example", "reg-one.example", True),
        ("reg-three.example", "reg-two.example", True),
    ]
    rows = lineage(store, OUTLET)
    assert all(r["registered"] and r["dated_by"] == "items" for r in rows)
    assert rows[1]["replaced_at"] == day(20) and rows[1]["evidence"]


def test_a_domain_registered_after_its_pages_joins_the_chain(store: Store) -> None:
    graph(store, [page("late-one.example", day(0)), page("late-two.example", day(30))])
    assert chain(store)[1][1] == "late-one.example"
    graph(store, [page("late-three.example", day(60), outlet=None)])  # not the outlet's yet
    assert [d for d, _, _ in chain(store)] == ["late-one.example", "late-two.example"]
    register_outlet(store, OUTLET, domains=["late-three.example"])
    graph(store, [page("late-three.example", day(70), outlet=None)])
    assert chain(store)[2] == ("late-three.example", "late-two.example", True)


def test_an_earlier_archive_scanned_later_keeps_the_link(store: Store) -> None:
    graph(store, [page("arc-two.example", day(d)) for d in (30, 40)])
    graph(store, [page("arc-one.example", day(d)) for d in (0, 10)])  # the older site's archive, later
    assert chain(store) == [("arc-one.example", None, None), ("arc-two.example", "arc-one.example", True)]


def test_an_archive_of_a_domain_in_between_replaces_the_link_it_splits(store: Store) -> None:
    graph(store, [page("mid-one.example", day(d)) for d in (0, 10)])
    graph(store, [page("mid-three.example", day(d)) for d in (60, 70)])
    assert chain(store)[1] == ("mid-three.example", "mid-one.example", True)
    view = GraphView(store)
    held = view.whole()
    result = graph(store, [page("mid-two.example", day(d)) for d in (30, 40)])
    assert (result.successions, result.successions_removed) == (2, 1)
    assert chain(store) == [
        ("mid-one.example", None, None),
        ("mid-two.example", "mid-one.example", True),
        ("mid-three.example", "mid-two.example", True),
    ]
    # The removed edge is gone everywhere: the counts, and a graph held before (loaded whole again).
    consistent(store)
    again = view.whole()
    assert again.how == "full" and again.version > held.version
    assert again.graph.ecount() == load_whole(store).graph.ecount()


def test_a_later_archive_showing_the_old_domain_live_undoes_the_link(store: Store) -> None:
    graph(store, [page("live-one.example", day(0)), page("live-two.example", day(30))])
    assert chain(store)[1][1] == "live-one.example"
    graph(store, [page("live-one.example", day(45))])  # the old site was still up: a mirror
    assert [r[1] for r in chain(store)] == [None, None]


def test_domains_known_only_from_the_outlets_links_come_in_time_order(store: Store) -> None:
    """Registered, never crawled: the channel's posts linking to them date them. The names sort the
    other way round from time, so name order would show."""
    names = ["zulu-first.example", "mike-second.example", "alpha-third.example"]
    register_outlet(store, OUTLET, channels=["telegram:lineage_main"], domains=names)
    graph(store, [post([names[2]], day(60)), post([names[2]], day(70))])
    graph(store, [post([names[0]], day(0)), post([names[0]], day(10)), post([names[1]], day(30))])
    rows = lineage(store, OUTLET)
    assert [r["domain"] for r in rows] == names
    assert [r["replaces"] for r in rows] == [None, names[0], names[1]]
    assert all(r["dated_by"] == "links" and r["inferred"] in (None, True) for r in rows)
    assert (rows[0]["first_seen"], rows[0]["last_seen"], rows[2]["first_seen"]) == (day(0), day(10), day(60))
    assert rows[1]["replaced_at"] == day(30) and rows[1]["evidence"]
    # Links from anyone else do not date the outlet's domains.
    stranger = Item(
        id=make_item_id("lin", "stranger"),
        source="lin",
        text="placeholder",
        native_id="stranger",
        account=Account("telegram", native_id="someone", handle="someone"),
        channel=Account("telegram", native_id="elsewhere", handle="elsewhere", is_channel=True),
        published=day(-100),
        links=[f"https://{names[2]}/"],
    )
    graph(store, [stranger])
    assert [r["domain"] for r in lineage(store, OUTLET)] == names


def test_an_explicit_succession_takes_precedence(store: Store) -> None:
    graph(store, [page("exp-one.example", day(0)), page("exp-two.example", day(30))])
    assert chain(store)[1] == ("exp-two.example", "exp-one.example", True)
    record_succession(store, OUTLET, "exp-zero.example", "exp-two.example", day(29))
    rows = {r["domain"]: r for r in lineage(store, OUTLET)}
    assert rows["exp-two.example"]["replaces"] == "exp-zero.example"
    assert rows["exp-two.example"]["inferred"] is False
    with store.read() as conn:
        kinds = [k for (k,) in conn.execute(select(graph_edges.c.kind))]
    assert kinds.count("succeeded-by") == 1  # the inferred one gave way
    consistent(store)
    with pytest.raises(UsageError, match="cannot replace itself"):
        record_succession(store, OUTLET, "exp-one.example", "www.exp-one.example", None)


# ---- any order, any split ------------------------------------------------------------------------------


def scenario() -> tuple[list[Item], list[str], list[str]]:
    """Five domains of one outlet over a year: three successions, one mirror overlapping its
    neighbours, one registered domain dated only by the channel's links, and an explicit replacement."""
    items = [
        *(page("ord-a.example", day(d), outlet=None) for d in (0, 10, 20)),  # registered
        *(page("ord-b.example", day(d)) for d in (40, 50)),
        *(page("ord-m.example", day(d)) for d in (45, 90)),  # a mirror: live across b and c
        *(page("ord-c.example", day(d)) for d in (100, 120)),
        post(["ord-d.example"], day(150)),  # d: registered, known from the channel's links only
        post(["ord-d.example"], day(160)),
        Item(
            id=make_item_id("lin", "replaces"),
            source="lin",
            text="placeholder",
            native_id="replaces",
            url="https://ord-e.example/new",
            published=day(200),
            meta={"outlet": OUTLET, "replaces": "ord-d.example"},
        ),
    ]
    return items, ["ord-a.example", "ord-d.example"], ["telegram:lineage_main"]


def all_at_once(store: Store) -> list[Any]:
    items, domains, channels = scenario()
    register_outlet(store, OUTLET, channels=channels, domains=domains)
    graph(store, sorted(items, key=lambda i: i.published or T0))
    return chain(store)


def test_the_scenario_reads_as_expected(store: Store) -> None:
    """The lineage of the scenario, worked out by hand: spans a 0-20, b 40-50, m 45-90, c 100-120,
    d 150-160 (links), e 200; b was still live when m appeared, so no b -> m; e replaces d explicitly."""
    assert all_at_once(store) == [
        ("ord-a.example", None, None),
        ("ord-b.example", "ord-a.example", True),
        ("ord-m.example", None, None),
        ("ord-c.example", "ord-m.example", True),
        ("ord-d.example", "ord-c.example", True),
        ("ord-e.example", "ord-d.example", False),
    ]
    consistent(store)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1), cuts=st.integers(1, 6))
def test_any_order_and_split_gives_the_same_lineage(store: Store, seed: int, cuts: int) -> None:
    """The outlet registered first (registration applies to what is graphed after it), then the items
    shuffled and dealt into batches: the lineage of one batch in time order, and a held view that
    equals a fresh load."""
    _reset(store)
    expected = all_at_once(store)
    _reset(store)
    items, domains, channels = scenario()
    rng = random.Random(seed)
    rng.shuffle(items)
    batches: list[list[Item]] = [[] for _ in range(cuts)]
    for item in items:
        batches[rng.randrange(cuts)].append(item)
    register_outlet(store, OUTLET, channels=channels, domains=domains)
    view = GraphView(store)
    for batch in batches:
        if batch:
            graph(store, batch)
            view.whole()
    assert chain(store) == expected
    consistent(store)
    held, fresh = view.whole(), load_whole(store)
    assert held.edge_ids.tolist() == fresh.edge_ids.tolist() and held.graph.vcount() == fresh.graph.vcount()


def _reset(store: Store) -> None:
    """An empty graph (items stay stored; they are graphed again from scratch)."""
    with store.write() as conn:
        for table in (graph_edges, graph_nodes, graph_items, graph_state):
            conn.execute(table.delete())


# ---- the cost ------------------------------------------------------------------------------------------


def test_inference_costs_the_same_however_much_else_the_store_holds(store: Store) -> None:
    """The statements a batch spends reconciling an outlet do not depend on the other outlets stored."""

    def statements_for_one_batch(tag: str) -> int:
        register_outlet(store, f"Outlet {tag}", domains=[f"{tag}-one.example"])
        graph(store, [page(f"{tag}-one.example", day(0), outlet=f"Outlet {tag}")])
        batch = [page(f"{tag}-two.example", day(30), outlet=f"Outlet {tag}")]
        store.add_items(batch)
        seen: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            seen.append(statement)

        event.listen(store.engine, "before_cursor_execute", count)
        try:
            result = update_graph(store, batch)
        finally:
            event.remove(store.engine, "before_cursor_execute", count)
        assert result.successions == 1
        return len(seen)

    small = statements_for_one_batch("first")
    for n in range(40):  # forty other outlets with their domains and successions
        graph(store, [page(f"other{n}-{k}.example", day(10 * k), outlet=f"Other {n}") for k in range(3)])
    assert statements_for_one_batch("second") == small
