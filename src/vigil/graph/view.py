"""Loading the graph (or part of it) for analysis: rows from the store, igraph for the algorithms.

A ``GraphView`` holds the whole graph in igraph form for the current graph version and reloads it only
when the version moves; long-lived processes (the API) keep one, the CLI builds one per command. It also
keeps small derived results (``remember``) for the version it holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import igraph as ig
import numpy as np
from sqlalchemy import or_, select

from vigil.errors import UsageError
from vigil.graph.pseudonym import AccountKeys, is_pseudonymised
from vigil.graph.state import version
from vigil.graph.tables import graph_edges, graph_nodes
from vigil.store import Store

CHUNK = 500
T = TypeVar("T")
_NONE = np.zeros(0, dtype=np.int64)


@dataclass(slots=True)
class Loaded:
    version: int
    graph: ig.Graph  # directed, one edge per stored edge; vertex attrs: db_id, kind; edge attrs: kind, weight
    index: dict[int, int]  # node db id -> vertex index
    edge_ids: np.ndarray = field(default_factory=lambda: _NONE)  # graph edge -> its db id
    memo: dict[str, Any] = field(default_factory=dict)  # derived results for this version


class GraphView:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._loaded: Loaded | None = None

    def whole(self) -> Loaded:
        current = version(self.store)
        if self._loaded is None or self._loaded.version != current:
            self._loaded = _load_whole(self.store, current)
        return self._loaded

    def remember(self, name: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per graph version held."""
        memo = self.whole().memo
        if name not in memo:
            memo[name] = compute()
        return memo[name]  # type: ignore[no-any-return,unused-ignore]


def _load_whole(store: Store, current: int) -> Loaded:
    """The whole graph, read with the driver's own cursor into arrays (no row objects per edge)."""
    with store.read() as conn:
        nodes = _fetch(conn, "SELECT id, kind FROM graph_nodes ORDER BY id")
        edges = _fetch(conn, "SELECT src, dst, kind, count, id FROM graph_edges ORDER BY id")
    ids = np.fromiter((n[0] for n in nodes), dtype=np.int64, count=len(nodes))
    index = {int(i): v for v, i in enumerate(ids)}
    g = ig.Graph(n=len(nodes), directed=True)
    g.vs["db_id"] = ids.tolist()
    g.vs["kind"] = [n[1] for n in nodes]
    if edges:
        src = np.fromiter((e[0] for e in edges), dtype=np.int64, count=len(edges))
        dst = np.fromiter((e[1] for e in edges), dtype=np.int64, count=len(edges))
        # Vertex of each node id: node ids are dense enough for a lookup array.
        where = np.full(int(ids.max(initial=0)) + 2, -1, dtype=np.int64)
        where[ids] = np.arange(len(ids))
        s = where[np.clip(src, 0, len(where) - 1)]
        d = where[np.clip(dst, 0, len(where) - 1)]
        keep = (s >= 0) & (d >= 0) & (src < len(where)) & (dst < len(where))
        kept = np.flatnonzero(keep)
        g.add_edges(list(zip(s[kept].tolist(), d[kept].tolist(), strict=True)))
        g.es["kind"] = [edges[i][2] for i in kept.tolist()]
        g.es["weight"] = [float(edges[i][3] or 1) for i in kept.tolist()]
        edge_ids = np.fromiter((edges[i][4] for i in kept.tolist()), dtype=np.int64, count=len(kept))
        return Loaded(current, g, index, edge_ids)
    return Loaded(current, g, index)


def _fetch(conn: Any, sql: str) -> list[tuple[Any, ...]]:
    """All rows of a plain query as tuples, straight from the driver."""
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


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
