"""The graph model: incremental and idempotent updates, the catch-up watermark, pseudonymised accounts,
edges with evidence, infrastructure facts, and hostile item metadata.

The store pseudonymises identities (``vigil.privacy``): expected node keys are the stored pseudonyms,
computed here with the store's own guard. One test runs with ``[privacy] pseudonymise = false``."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import Account, Item, Media, make_item_id
from vigil.graph.merge import EVIDENCE_CAP
from vigil.graph.outlets import record_succession, register_outlet
from vigil.graph.paths import ego, shortest_path
from vigil.graph.state import count_rows
from vigil.graph.stats import stats
from vigil.graph.tables import graph_edges, graph_items, graph_nodes, graph_state
from vigil.graph.update import catch_up, update_graph
from vigil.graph.view import GraphView
from vigil.ingest.pipeline import Pipeline
from vigil.privacy.identities import IdentityGuard
from vigil.privacy.pseudonym import Pseudonymiser
from vigil.store import Store

T0 = datetime(2024, 3, 1, tzinfo=UTC)
SECRET = Pseudonymiser(b"k" * 32)


def item(n: int, **kw: object) -> Item:
    return Item(id=make_item_id("t", str(n)), source="t", text=f"placeholder {n}", native_id=str(n), **kw)  # type: ignore[arg-type]


def person(handle: str) -> Account:
    return Account("telegram", native_id=handle, handle=handle, display_name=f"Name of {handle}")


def channel(handle: str) -> Account:
    return Account("telegram", native_id=handle, handle=handle, is_channel=True)


def acct(store: Store, clear_key: str) -> str:
    """The node key of an account: its stored pseudonym."""
    assert store.identities is not None
    return "account:" + store.identities.account_key(clear_key)


def chan(store: Store, clear_key: str) -> str:
    assert store.identities is not None
    return "channel:" + store.identities.account_key(clear_key)


def edges(store: Store) -> dict[tuple[str, str, str], dict]:
    src, dst = graph_nodes.alias("s"), graph_nodes.alias("d")
    with store.read() as conn:
        rows = conn.execute(
            select(src.c.key.label("s"), dst.c.key.label("d"), graph_edges)
            .join(src, src.c.id == graph_edges.c.src)
            .join(dst, dst.c.id == graph_edges.c.dst)
        ).mappings()
        return {(r["s"], r["d"], r["kind"]): dict(r) for r in rows}


def sample() -> list[Item]:
    news = channel("newsroom")
    alice, bob = person("alice_handle"), person("bob_handle")
    pic = Media("ab" * 32, "image/png", 10, kind="image")
    return [
        item(
            1, account=alice, channel=news, published=T0, media=[pic], links=["https://mega.nz/file/XYZ#key"]
        ),
        item(
            2,
            account=bob,
            channel=news,
            published=T0 + timedelta(hours=1),
            forwarded_from="telegram:alice_handle",
        ),
        item(3, account=bob, channel=news, published=T0 + timedelta(hours=2), reply_to="1", media=[pic]),
        item(
            4,
            url="https://www.site-one.example/page",
            published=T0 + timedelta(hours=3),
            meta={
                "infra": {
                    "domain": "site-one.example",
                    "ip": "192.0.2.7",
                    "asn": "AS64500",
                    "hoster": "Example Host",
                },
                "tracking_ids": ["UA-000-1"],
                "template": "tpl-a",
                "replaces": "old-site.example",
            },
        ),
    ]


def test_items_become_nodes_and_edges_with_evidence(store: Store) -> None:
    items = sample()
    store.add_items(items)
    result = update_graph(store, items, SECRET)
    assert result.items == 4
    got = edges(store)
    alice, bob = acct(store, "telegram:alice_handle"), acct(store, "telegram:bob_handle")
    news = chan(store, "telegram:newsroom")
    assert alice.startswith("account:telegram:psa_") and news.startswith("channel:telegram:psa_")
    posted = got[(alice, news, "posted")]
    assert (
        posted["evidence"] == [items[0].id]
        and posted["first_seen"] == T0
        and posted["attrs"]["originals"] == 1
    )
    assert got[(bob, news, "posted")]["count"] == 2
    assert got[(bob, alice, "forwarded-from")]["evidence"] == [items[1].id]
    assert got[(bob, alice, "replied-to")]["evidence"] == [items[2].id]
    assert (alice, "target:mega.nz/file/XYZ", "links-to") in got
    assert ("target:mega.nz/file/XYZ", "domain:mega.nz", "hosted-by") in got
    media = "media:" + "ab" * 32
    assert got[(bob, media, "shares-media")]["count"] == 1 and (alice, media, "shares-media") in got
    assert ("domain:site-one.example", "ip:192.0.2.7", "resolves-to") in got
    assert ("ip:192.0.2.7", "asn:64500", "hosted-by") in got
    assert ("asn:64500", "hoster:example host", "hosted-by") in got
    assert ("domain:site-one.example", "tracking:UA-000-1", "same-tracking-id") in got
    assert ("domain:site-one.example", "template:tpl-a", "same-template") in got
    assert ("domain:old-site.example", "domain:site-one.example", "succeeded-by") in got
    # No clear handle or display name anywhere in the graph tables.
    with store.read() as conn:
        dump = json.dumps([dict(r) for r in conn.execute(select(graph_nodes)).mappings()], default=str)
        dump += json.dumps([dict(r) for r in conn.execute(select(graph_edges)).mappings()], default=str)
    assert "alice" not in dump and "bob" not in dump and "Name of" not in dump and "newsroom" not in dump


def test_updates_are_idempotent_and_catch_up_uses_the_watermark(store: Store) -> None:
    items = sample()
    store.add_items(items[:2])
    update_graph(store, items[:2], SECRET)
    before = edges(store)
    assert update_graph(store, items[:2], SECRET).items == 0  # offered again: nothing changes
    assert catch_up(store, SECRET).items == 0  # the hook graphed them already
    assert edges(store) == before
    store.add_items(items[2:])  # stored without the hook
    assert stats(store)["items_pending"] == 2
    assert catch_up(store, SECRET, batch_size=1).items == 2
    assert stats(store)["items_pending"] == 0 and stats(store)["items_graphed"] == 4
    assert catch_up(store, SECRET).items == 0


def test_evidence_is_capped_but_counted(store: Store) -> None:
    alice, news = person("alice_handle"), channel("newsroom")
    many = [
        item(100 + i, account=alice, channel=news, published=T0 + timedelta(minutes=i)) for i in range(50)
    ]
    store.add_items(many)
    for start in range(0, 50, 7):
        update_graph(store, many[start : start + 7], SECRET)
    edge = edges(store)[(acct(store, "telegram:alice_handle"), chan(store, "telegram:newsroom"), "posted")]
    assert edge["count"] == 50 and len(edge["evidence"]) == EVIDENCE_CAP
    assert edge["evidence"][0] == many[0].id and edge["evidence"][-1] == many[-1].id
    assert edge["first_seen"] == T0 and edge["last_seen"] == T0 + timedelta(minutes=49)


def test_ego_and_path_carry_evidence(store: Store) -> None:
    items = sample()
    store.add_items(items)
    update_graph(store, items, SECRET)
    alice = acct(store, "telegram:alice_handle")
    around = ego(store, alice, radius=1)
    assert around["center"]["key"] == alice
    # An analyst who knows the clear account or channel key finds the same nodes.
    assert ego(store, "account:telegram:alice_handle")["center"]["key"] == alice
    news = chan(store, "telegram:newsroom")
    assert ego(store, "channel:telegram:newsroom")["center"]["key"] == news
    assert {news, "target:mega.nz/file/XYZ"} <= {n["key"] for n in around["nodes"]}
    assert all(e["evidence"] for e in around["edges"])
    found = shortest_path(GraphView(store), alice, "domain:mega.nz")
    assert found["found"] and [n["key"] for n in found["nodes"]] == [
        alice,
        "target:mega.nz/file/XYZ",
        "domain:mega.nz",
    ]
    assert all(h["edges"] and h["edges"][0]["evidence"] for h in found["hops"])


def test_registered_channel_makes_posts_the_outlets(store: Store) -> None:
    register_outlet(store, "Outlet Alpha", channels=["telegram:newsroom"], domains=["alpha.example"])
    items = sample()[:1]
    store.add_items(items)
    update_graph(store, items, SECRET)
    news = chan(store, "telegram:newsroom")
    posted = edges(store)[(acct(store, "telegram:alice_handle"), news, "posted")]
    assert posted["attrs"]["outlet_originals"] == {"outlet alpha": 1}
    assert edges(store)[(news, "outlet:outlet alpha", "part-of")]["attrs"]["registered"]


def test_hook_and_catch_up_agree_on_keys(store: Store) -> None:
    """The hook gets the caller's clear items, catch-up reads them back from the store: both must graph
    the same (stored) keys, so replies and forwards across the two paths resolve."""
    items = sample()
    store.add_items(items[:1])
    update_graph(store, items[:1], SECRET)  # clear Item objects offered to the hook
    store.add_items(items[1:])
    assert catch_up(store, SECRET).items == 3  # the rest read back from the store
    got = edges(store)
    alice, bob = acct(store, "telegram:alice_handle"), acct(store, "telegram:bob_handle")
    assert got[(bob, alice, "forwarded-from")]["evidence"] == [items[1].id]
    assert got[(bob, alice, "replied-to")]["evidence"] == [items[2].id]
    with store.read() as conn:
        kinds = dict(conn.execute(select(graph_nodes.c.key, graph_nodes.c.kind)).all())
    assert sum(1 for k in kinds.values() if k == "account") == 2
    assert sum(1 for k in kinds.values() if k == "channel") == 1


def test_stats_counts_follow_every_write(store: Store) -> None:
    """``stats`` reads counts kept as rows are added; they must equal the tables after every kind of
    write, and be rebuilt from the tables when a graph has none yet."""
    items = sample()
    store.add_items(items[:2])
    update_graph(store, items[:2], SECRET)
    register_outlet(store, "Outlet Alpha", channels=["telegram:newsroom"], domains=["site-one.example"])
    record_succession(store, "Outlet Alpha", "site-one.example", "site-two.example", T0)
    store.add_items(items[2:])
    catch_up(store, SECRET)
    with store.read() as conn:
        counted = count_rows(conn)
    got = stats(store)
    assert got["nodes_by_kind"] == dict(sorted(counted["nodes"].items()))
    assert got["edges_by_kind"] == dict(sorted(counted["edges"].items()))
    assert got["edges_by_kind"]["succeeded-by"] == 2  # the recorded one and meta.replaces
    with store.write() as conn:
        conn.execute(graph_state.delete().where(graph_state.c.key == "counts"))
    assert stats(store) == got


def test_the_pipeline_graphs_what_it_stores(store: Store) -> None:
    """The graph hook is registered (entry point ``vigil.after_store``): a plain Pipeline graphs each batch
    as it stores it; ``hooks=[]`` leaves it out."""
    items = sample()
    Pipeline(store, []).process(items[:2])
    assert stats(store)["items_graphed"] == 2 and stats(store)["items_pending"] == 0
    Pipeline(store, [], hooks=[]).process(items[2:])
    assert stats(store)["items_graphed"] == 2 and stats(store)["items_pending"] == 2


def test_a_failing_graph_update_loses_nothing(config: Config, caplog: pytest.LogCaptureFixture) -> None:
    store = open_store(config)
    try:
        with store.write() as conn:
            conn.execute(text("DROP TABLE graph_items"))  # the graph cannot claim items
        items = sample()
        with caplog.at_level(logging.ERROR, logger="vigil.graph.update"):
            result = Pipeline(store, []).process(items)
        assert result.new_items == len(items)  # stored regardless
        assert "vigil graph update" in caplog.text
        graph_items.create(store.engine)
        assert catch_up(store).items == len(items)
    finally:
        store.close()


def test_without_pseudonymised_store_the_graph_computes_the_guards_pseudonyms(home: Path) -> None:
    """One key, one class: without the guard the graph pseudonymises accounts itself, with the class and
    the key the guard would use, so node keys are those of a pseudonymised store."""
    (home / "config.toml").write_text("[privacy]\npseudonymise = false\n")
    store = open_store(Config.load(home))
    try:
        assert store.identities is None
        items = sample()
        store.add_items(items)
        own = Pseudonymiser.for_home(home)  # the pseudonym key under $VIGIL_HOME
        update_graph(store, items, own)
        got = edges(store)
        alice = "account:" + own.account_key("telegram:alice_handle")
        bob = "account:" + own.account_key("telegram:bob_handle")
        guard = IdentityGuard(Config.load(home))  # what a pseudonymising store under this home computes
        assert alice == "account:" + guard.account_key("telegram:alice_handle")
        assert alice.startswith("account:telegram:psa_")
        assert not (home / "graph-pseudonym.key").exists()  # no second key
        news = "channel:telegram:newsroom"
        assert got[(alice, news, "posted")]["evidence"] == [items[0].id]
        assert got[(bob, alice, "replied-to")]["evidence"] == [items[2].id]
        assert ego(store, "account:telegram:bob_handle", radius=1)["center"]["key"] == bob
        with store.read() as conn:
            dump = json.dumps([dict(r) for r in conn.execute(select(graph_nodes)).mappings()], default=str)
        assert "alice" not in dump and "Name of" not in dump
    finally:
        store.close()


def test_pseudonym_key_is_created_once_and_private(tmp_path: Path) -> None:
    first = Pseudonymiser.for_home(tmp_path)
    again = Pseudonymiser.for_home(tmp_path)
    assert (
        first.account_key("telegram:x") == again.account_key("telegram:x") != first.account_key("telegram:y")
    )
    assert (tmp_path / "keys" / "pseudonym.key").stat().st_mode & 0o077 == 0
    assert Pseudonymiser(b"o" * 32).account_key("telegram:x") != first.account_key("telegram:x")
