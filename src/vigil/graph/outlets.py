"""Outlets defined explicitly: a name with the channels and domains known to be its own.

Items are also tied to outlets by attribution (``meta.outlet``/``meta.outlets`` or a signal from the
``outlets`` detector, whose ``meta.outlets`` lists names); see ``vigil.graph.extract``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from vigil.errors import UsageError
from vigil.graph.extract import Facts
from vigil.graph.facts import EdgeFact, channel_node, domain_node, outlet_node
from vigil.graph.merge import write_facts
from vigil.graph.pseudonym import AccountKeys
from vigil.graph.state import bump_version, lock
from vigil.graph.succession import add_succession
from vigil.graph.tables import graph_edges, graph_nodes
from vigil.store import Store


def register_outlet(
    store: Store,
    name: str,
    channels: Sequence[str] = (),
    domains: Sequence[str] = (),
    at: datetime | None = None,
) -> dict[str, Any]:
    """Create (or extend) an outlet: each channel key (``platform:id``) and domain becomes ``part-of`` it.

    A channel key may be given in clear: with the store's identity guard it is mapped to the channel's
    stored pseudonym, so it matches the channel's items."""
    from vigil.graph.update import UpdateResult

    keys = AccountKeys.for_store(store)

    if not name.strip():
        raise UsageError("an outlet needs a name")
    facts = Facts()
    outlet = facts.node(outlet_node(name), counts=False)
    for ref in channels:
        if ":" not in ref:
            raise UsageError(f"channel {ref!r}: expected platform:id, e.g. telegram:1234")
        key = keys.canonical(ref.strip())
        venue = facts.node(channel_node(key, None, key.split(":", 1)[0]), counts=False)
        facts.edges.append(EdgeFact(venue, outlet, "part-of", None, at, attrs={"registered": True}))
    for ref in domains:
        node = domain_node(ref)
        if node is None:
            raise UsageError(f"domain {ref!r} is not a host name")
        venue = facts.node(node, counts=False)
        facts.edges.append(EdgeFact(venue, outlet, "part-of", None, at, attrs={"registered": True}))
    result = UpdateResult()
    with store.write() as conn:
        lock(conn)
        write_facts(conn, facts, result)
        bump_version(conn)
    return {"outlet": facts.nodes[outlet].label, "key": outlet, "venues": len(facts.edges)}


def record_succession(store: Store, outlet: str, old: str, new: str, at: datetime | None) -> None:
    """State that domain ``new`` replaced ``old`` for an outlet (both become ``part-of`` it)."""
    register_outlet(store, outlet, domains=[old, new])
    old_node, new_node = domain_node(old), domain_node(new)
    assert old_node is not None and new_node is not None
    with store.write() as conn:
        lock(conn)
        ids = node_ids(conn, [old_node.key, new_node.key, outlet_node(outlet).key])
        add_succession(
            conn, ids[old_node.key], ids[new_node.key], at, [], ids[outlet_node(outlet).key], False
        )
        bump_version(conn)


def node_ids(conn: Connection, keys: Sequence[str]) -> dict[str, int]:
    rows = conn.execute(select(graph_nodes.c.key, graph_nodes.c.id).where(graph_nodes.c.key.in_(list(keys))))
    return {k: i for k, i in rows}


def find_outlet(conn: Connection, name: str) -> Any:
    row = (
        conn.execute(select(graph_nodes).where(graph_nodes.c.key == outlet_node(name).key)).mappings().first()
    )
    if row is None:
        raise UsageError(f"no outlet named {name!r} in the graph (see `vigil graph outlets`)")
    return row


def venues(conn: Connection, outlet_id: int) -> dict[int, str]:
    """Channels and domains that are ``part-of`` or ``mirrors`` the outlet: node id -> edge kind."""
    rows = conn.execute(
        select(graph_edges.c.src, graph_edges.c.kind).where(
            graph_edges.c.dst == outlet_id, graph_edges.c.kind.in_(["part-of", "mirrors"])
        )
    )
    out: dict[int, str] = {}
    for src, kind in rows:
        if out.get(src) != "part-of":
            out[src] = kind
    return out


def list_outlets(store: Store) -> list[dict[str, Any]]:
    with store.read() as conn:
        rows = list(conn.execute(select(graph_nodes).where(graph_nodes.c.kind == "outlet")).mappings())
        out = []
        for row in rows:
            v = venues(conn, row["id"])
            out.append(
                {
                    "outlet": row["label"],
                    "key": row["key"],
                    "own_venues": sum(1 for k in v.values() if k == "part-of"),
                    "mirrors": sum(1 for k in v.values() if k == "mirrors"),
                    "first_seen": row["first_seen"],
                    "last_seen": row["last_seen"],
                }
            )
    return sorted(out, key=lambda r: r["outlet"].casefold())
