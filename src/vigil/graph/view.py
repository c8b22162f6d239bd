"""Loading the graph (or part of it) for analysis: rows from the store, igraph for the algorithms.

A ``GraphView`` holds the whole graph in igraph form for the current graph version and, when the version
moves, applies only the rows changed since (``vigil.graph.loaded``); long-lived processes (the API) keep
one, the CLI builds one per command. It also keeps small derived results (``remember``) for the version it
holds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import or_, select

from vigil.errors import UsageError
from vigil.graph.loaded import MAX_DELTA, Loaded, load_whole, refresh
from vigil.graph.pseudonym import AccountKeys, is_pseudonymised
from vigil.graph.state import version
from vigil.graph.tables import graph_edges, graph_nodes
from vigil.store import Store

CHUNK = 500
T = TypeVar("T")


class GraphView:
    """The whole graph for the current graph version, shared by the threads of a server.

    ``whole()`` checks the version and, when it moved, applies the rows changed since (or loads the graph
    again when that is not possible or not worth it, see ``vigil.graph.loaded``); one thread refreshes
    while the others wait for it. A ``Loaded`` once returned never changes, so a caller may keep using it
    while a newer one replaces it."""

    def __init__(self, store: Store, max_delta: int = MAX_DELTA) -> None:
        self.store = store
        self.max_delta = max_delta
        self._loaded: Loaded | None = None
        self._lock = threading.Lock()

    def whole(self) -> Loaded:
        held = self._loaded
        if held is not None and held.version == version(self.store):
            return held
        with self._lock:
            self._loaded = refresh(self.store, self._loaded, self.max_delta)
            return self._loaded

    def reload(self) -> Loaded:
        """A full load, whatever is held."""
        with self._lock:
            self._loaded = load_whole(self.store)
            return self._loaded

    def remember(self, name: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per graph version held."""
        memo = self.whole().memo
        if name not in memo:
            memo[name] = compute()
        return memo[name]  # type: ignore[no-any-return,unused-ignore]


def node_rows(store: Store, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    wanted = sorted(set(ids))
    out: dict[int, dict[str, Any]] = {}
    with store.read() as conn:
        for start in range(0, len(wanted), CHUNK):
            part = wanted[start : start + CHUNK]
            for row in conn.execute(select(graph_nodes).where(graph_nodes.c.id.in_(part))).mappings():
                out[row["id"]] = dict(row)
    return out


def resolve_node(store: Store, ref: str) -> dict[str, Any]:
    """A node by its key (``domain:example.org``, ``outlet:name``, ``account:telegram:psa_...``) or its id.

    An account or channel named by its clear key (``account:telegram:NAME``, ``channel:telegram:NAME``)
    is looked up by its pseudonym (see ``vigil.graph.pseudonym.AccountKeys``)."""
    ref = ref.strip()
    with store.read() as conn:
        query = select(graph_nodes)
        if ref.isascii() and ref.isdigit() and len(ref) <= 18:  # "¹" is a digit to isdigit, not to int
            query = query.where(or_(graph_nodes.c.id == int(ref), graph_nodes.c.key == ref))
        else:
            query = query.where(graph_nodes.c.key.in_(_candidates(store, ref)))
        row = conn.execute(query).mappings().first()
    if row is None:
        raise UsageError(
            f"no node {ref!r} in the graph (give a node key such as domain:example.org, or an id)"
        )
    return dict(row)


def edges_between(store: Store, pairs: Sequence[tuple[int, int]]) -> list[dict[str, Any]]:
    """Stored edges joining each pair (either direction), with their evidence."""
    out: list[dict[str, Any]] = []
    with store.read() as conn:
        for a, b in pairs:
            c = graph_edges.c
            rows = conn.execute(
                select(graph_edges).where(or_((c.src == a) & (c.dst == b), (c.src == b) & (c.dst == a)))
            ).mappings()
            out.extend(dict(r) for r in rows)
    return out


def node_public(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "key": row["key"],
        "kind": row["kind"],
        "label": row["label"],
        "first_seen": row["first_seen"],
        "last_seen": row["last_seen"],
        "items": row["item_count"],
    }


def edge_public(row: dict[str, Any]) -> dict[str, Any]:
    attrs = row.get("attrs") or {}
    return {
        "id": row["id"],
        "src": row["src"],
        "dst": row["dst"],
        "kind": row["kind"],
        "first_seen": row["first_seen"],
        "last_seen": row["last_seen"],
        "count": row["count"],
        "evidence": list(row.get("evidence") or []),
        "attrs": {k: v for k, v in attrs.items() if k != "outlet_id"},
    }


def _candidates(store: Store, ref: str) -> list[str]:
    """``ref`` itself, and for an account or channel given by a clear ``platform:id`` its node key."""
    kind, _, rest = ref.partition(":")
    if kind not in ("account", "channel") or ":" not in rest or is_pseudonymised(rest):
        return [ref]
    keys = AccountKeys.for_store(store)
    if kind == "channel":
        return list(dict.fromkeys([ref, f"channel:{keys.canonical(rest)}"]))
    return list(dict.fromkeys([ref, keys.node_key(rest)]))
