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
from vigil.graph.succession import add_succession, infer_successions, reconcile
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
    stored pseudonym, so it matches the channel's items. The outlet's successions are inferred again
    (its new venues and domains are evidence, see ``vigil.graph.succession``)."""
    from vigil.graph.update import UpdateResult

    facts, outlet = outlet_facts(AccountKeys.for_store(store), name, channels, domains, at)
    with store.write() as conn:
        lock(conn)
        infer_successions(conn, write_facts(conn, facts, UpdateResult()))
        bump_version(conn)
    return {"outlet": facts.nodes[outlet].label, "key": outlet, "venues": len(facts.edges)}


def outlet_facts(
    keys: AccountKeys, name: str, channels: Sequence[str], domains: Sequence[str], at: datetime | None
) -> tuple[Facts, str]:
    """The outlet node and a registered ``part-of`` edge from each channel and domain; the outlet's key
    (as stored: ``Facts.node`` replaces what the store cannot hold)."""
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
    return facts, outlet


def record_succession(store: Store, outlet: str, old: str, new: str, at: datetime | None) -> None:
    """State that domain ``new`` replaced ``old`` for an outlet (both become ``part-of`` it), in one
    transaction with their registration; what was inferred for the outlet gives way to it."""
    from vigil.graph.update import UpdateResult

    old_node, new_node = domain_node(old), domain_node(new)
    if old_node is None or new_node is None:
        raise UsageError(f"domain {old if old_node is None else new!r} is not a host name")
    if old_node.key == new_node.key:
        raise UsageError(f"{old!r} and {new!r} are the same domain: a domain cannot replace itself")
    facts, outlet_key = outlet_facts(AccountKeys.for_store(store), outlet, (), (old, new), None)
    old_key, new_key = facts.node(old_node, counts=False), facts.node(new_node, counts=False)  # as stored
    with store.write() as conn:
        lock(conn)
        write_facts(conn, facts, UpdateResult())
        ids = node_ids(conn, [old_key, new_key, outlet_key])
        outlet_id = ids[outlet_key]
        add_succession(conn, ids[old_key], ids[new_key], at, [], outlet_id, False)
        reconcile(conn, outlet_id)
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
