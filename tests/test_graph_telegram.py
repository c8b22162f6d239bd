"""Telegram exports in the graph, read as Telegram Desktop writes them (``from_id: "channel<id>"``,
``forwarded_from`` a display name and ``forwarded_from_id`` a peer id, supergroups as chats): a channel
posts as itself (no account twin), a group is a venue its members post in, and a forward names the
channel's own node whether the forwarded channel's export is scanned before or after the forward."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from vigil.core.model import Item, Quarantined
from vigil.graph.centrality import key_actors
from vigil.graph.tables import graph_edges, graph_nodes
from vigil.graph.update import update_graph
from vigil.graph.view import GraphView
from vigil.ingest.pipeline import Pipeline
from vigil.sources import samples
from vigil.sources.base import SourceContext
from vigil.sources.telegram import TelegramSource
from vigil.store import Store
from vigil.store.media import MediaSink

CHANNEL_ID = 1700000001  # the channel whose posts are forwarded into the group
GROUP_ID = 1800000002


def _read(folder: Path, media: Path) -> list[Item]:
    records = list(TelegramSource().read(folder, SourceContext(media=MediaSink(media))))
    assert not [r for r in records if isinstance(r, Quarantined)]
    return [r for r in records if isinstance(r, Item)]


def _channel_export(root: Path) -> Path:
    msgs = [samples.telegram_message(n, f"channel placeholder {n}") for n in (1, 2, 3)]
    return samples.write_telegram_export(
        root / "channel", [samples.telegram_chat("Example Source", CHANNEL_ID, msgs)]
    ).parent


def _group_export(root: Path) -> Path:
    members = [(f"Member {n}", f"user{200000000 + n}") for n in range(3)]
    msgs = [
        samples.telegram_message(1, "group placeholder one", sender=members[0][0], sender_id=members[0][1]),
        samples.telegram_message(
            2,
            "channel placeholder 1",
            sender=members[1][0],
            sender_id=members[1][1],
            forwarded_from="Example Source",
            forwarded_from_id=f"channel{CHANNEL_ID}",
        ),
        samples.telegram_message(
            3,
            "channel placeholder 2",
            sender=members[2][0],
            sender_id=members[2][1],
            forwarded_from="Example Source",
            forwarded_from_id=f"channel{CHANNEL_ID}",
        ),
        samples.telegram_message(
            4,
            "hidden sender placeholder",
            sender=members[0][0],
            sender_id=members[0][1],
            forwarded_from="Somebody Hidden",
        ),
        # An anonymous admin posts as the group itself.
        samples.telegram_message(
            5, "admin placeholder", sender="Example Group", sender_id=f"channel{GROUP_ID}"
        ),
    ]
    chat = samples.telegram_chat("Example Group", GROUP_ID, msgs, kind="private_supergroup")
    return samples.write_telegram_export(root / "group", [chat]).parent


def _nodes(store: Store) -> dict[str, dict]:
    with store.read() as conn:
        return {r["key"]: dict(r) for r in conn.execute(select(graph_nodes)).mappings()}


def _edges(store: Store) -> set[tuple[str, str, str]]:
    src, dst = graph_nodes.alias("s"), graph_nodes.alias("d")
    with store.read() as conn:
        rows = conn.execute(
            select(src.c.key, dst.c.key, graph_edges.c.kind)
            .join(src, src.c.id == graph_edges.c.src)
            .join(dst, dst.c.id == graph_edges.c.dst)
        )
        return {(s, d, k) for s, d, k in rows}


@pytest.mark.parametrize("forward_first", [True, False])
def test_one_node_per_channel_and_groups_are_venues(
    tmp_path: Path, store: Store, forward_first: bool
) -> None:
    guard = store.identities
    assert guard is not None
    channel_items = _read(_channel_export(tmp_path), tmp_path / "media")
    group_items = _read(_group_export(tmp_path), tmp_path / "media")
    pipeline = Pipeline(store, [], hooks=[lambda fresh: update_graph(store, fresh)])
    for batch in (group_items, channel_items) if forward_first else (channel_items, group_items):
        pipeline.process(batch)

    nodes, edges = _nodes(store), _edges(store)
    channel = "channel:" + guard.account_key(f"telegram:{CHANNEL_ID}")
    group = "channel:" + guard.account_key(f"telegram:{GROUP_ID}")
    # One node for the forwarded channel, a channel, whichever export came first; no account twin.
    assert nodes[channel]["kind"] == "channel"
    twins = [
        k for k in nodes if k.startswith("account:") and guard.account_key(f"telegram:{CHANNEL_ID}") in k
    ]
    assert twins == []
    assert not any(
        k.startswith("account:") and guard.account_key(f"telegram:channel{CHANNEL_ID}") in k for k in nodes
    )
    # The channel posts as itself: no account posts in it.
    assert not [e for e in edges if e[1] == channel and e[2] == "posted"]
    # The supergroup is a venue, told apart from a channel; its members posted in it.
    assert nodes[group]["kind"] == "channel" and (nodes[group]["attrs"] or {}).get("venue") == "group"
    assert (nodes[channel]["attrs"] or {}).get("venue") == "channel"
    members = {"account:" + guard.account_key(f"telegram:user{200000000 + n}") for n in range(3)}
    assert {e[0] for e in edges if e[1] == group and e[2] == "posted"} == members
    # The forwards point at the channel's own node, from the member and the group.
    forwarders = {e[0] for e in edges if e[1] == channel and e[2] == "forwarded-from"}
    assert forwarders == {group} | {
        "account:" + guard.account_key(f"telegram:user{200000000 + n}") for n in (1, 2)
    }
    # The anonymous admin's post is the group's own: no account for the group.
    assert not [
        k for k in nodes if k.startswith("account:") and guard.account_key(f"telegram:{GROUP_ID}") in k
    ]
    # Key actors are accounts: the forwarded channel is not among them.
    ranked = key_actors(GraphView(store), top=20)
    assert channel not in {row["key"] for row in ranked}
