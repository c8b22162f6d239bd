"""The whole graph in igraph form, loaded from the store, and brought up to date by applying only the rows
changed since the version it holds.

Every write of the graph stamps the rows it inserts or changes with the version it commits (``touched``,
see ``vigil.graph.state.next_version``), so the rows changed after version V are ``touched > V``, found
through an index. ``refresh`` applies them to a copy of the loaded graph (new nodes and edges appended in
id order, changed edges get their new weight): the result is the graph a full load would give, vertex for
vertex and edge for edge, so every analysis gives the same answer on either. It falls back to a full load
when the delta is large, when the version went back (a rebuilt store), when rows are not in id order, or
when the loaded graph holds fewer rows than the store counts (a writer that did not stamp its rows), or
when rows were removed since the version it holds (``graph_state`` ``removed``: the version of the last
write that deleted rows, e.g. an inferred succession that later evidence contradicts; a delta cannot
express a removal).

Reads run as separate statements (SQLite's driver and PostgreSQL's READ COMMITTED give each statement its
own snapshot), so they go in an order that stays consistent while writers commit: the version first, then
the edges, then the nodes (nodes are written before their edges, never removed). Rows a later version
changed may already be in; they are read again (and applied again, which changes nothing) next time.

A ``Loaded`` is never changed once built: a request that holds one may use it while another is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import igraph as ig
import numpy as np
from sqlalchemy import Connection, select

from vigil.graph.tables import graph_edges, graph_nodes, graph_state
from vigil.store import Store

_NONE = np.zeros(0, dtype=np.int64)
MAX_DELTA = 200_000  # changed edges above which a full load is as quick (and then at least this share:)
MAX_DELTA_SHARE = 0.25


@dataclass(slots=True)
class Loaded:
    version: int
    graph: ig.Graph  # directed, one edge per stored edge; vertex attrs: db_id, kind; edge attrs: kind, weight
    index: dict[int, int]  # node db id -> vertex index
    edge_ids: np.ndarray = field(default_factory=lambda: _NONE)  # graph edge -> its db id (ascending)
    memo: dict[str, Any] = field(default_factory=dict)  # derived results for this version
    top_node: int = 0  # the highest node db id held
    how: str = "full"  # "full": loaded whole; "delta": an earlier one with the changed rows applied

    @property
    def ends(self) -> np.ndarray:
        """(edges, 2) array of each edge's source and target vertex (computed once per ``Loaded``)."""
        found = self.memo.get("edge_ends")
        if found is None:
            edges = self.graph.get_edgelist()
            found = self.memo["edge_ends"] = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        return found  # type: ignore[no-any-return,unused-ignore]


@dataclass(slots=True, frozen=True)
class _State:
    version: int
    nodes: int | None  # the node and edge totals kept with the version (None: an older graph)
    edges: int | None
    removed: int  # the version of the last write that removed rows (0: none)


def _state(conn: Connection) -> _State:
    """The graph version, the node and edge totals kept with it and the version of the last removal, in
    one statement."""
    found = dict(
        conn.execute(
            select(graph_state.c.key, graph_state.c.value).where(
                graph_state.c.key.in_(["version", "counts", "removed"])
            )
        ).all()
    )
    current, removed = int(found.get("version") or 0), int(found.get("removed") or 0)
    counts = found.get("counts")
    if not isinstance(counts, dict):
        return _State(current, None, None, removed)
    return _State(
        current,
        sum((counts.get("nodes") or {}).values()),
        sum((counts.get("edges") or {}).values()),
        removed,
    )


def weight(count: Any) -> float:
    """An edge's weight: its count (the items behind it), at least 1, so that every algorithm gets the
    positive weights it needs whatever a row holds."""
    try:
        value = float(count or 1)
    except (TypeError, ValueError):
        return 1.0
    return value if value >= 1.0 and value < float("inf") else 1.0


def load_whole(store: Store) -> Loaded:
    """The whole graph, read with the driver's own cursor into arrays (no row objects per edge)."""
    with store.read() as conn:
        current = _state(conn).version
        edges = _fetch(conn, "SELECT src, dst, kind, count, id FROM graph_edges ORDER BY id")
        nodes = _fetch(conn, "SELECT id, kind FROM graph_nodes ORDER BY id")
    ids = np.fromiter((n[0] for n in nodes), dtype=np.int64, count=len(nodes))
    index = {int(i): v for v, i in enumerate(ids)}
    g = ig.Graph(n=len(nodes), directed=True)
    g.vs["db_id"] = ids.tolist()
    g.vs["kind"] = [n[1] for n in nodes]
    # The edge attributes exist even without edges: an algorithm asked for weights="weight" on a graph
    # without the attribute is an igraph error (and outside the main thread an abort()).
    g.es["kind"] = []
    g.es["weight"] = []
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
        g.es["weight"] = [weight(edges[i][3]) for i in kept.tolist()]
        edge_ids = np.fromiter((edges[i][4] for i in kept.tolist()), dtype=np.int64, count=len(kept))
        return Loaded(current, g, index, edge_ids, top_node=int(ids.max(initial=0)))
    return Loaded(current, g, index, top_node=int(ids.max(initial=0)))


def _fetch(conn: Any, sql: str) -> list[tuple[Any, ...]]:
    """All rows of a plain query as tuples, straight from the driver."""
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def refresh(store: Store, loaded: Loaded | None, max_delta: int = MAX_DELTA) -> Loaded:
    """``loaded`` brought up to the store's current version: itself if nothing changed, the changed rows
    applied to a copy if that is possible and worth it, else a full load."""
    if loaded is None:
        return load_whole(store)
    with store.read() as conn:
        state = _state(conn)
        current, n_nodes, n_edges = state.version, state.nodes, state.edges
        if current == loaded.version:
            return loaded
        if current < loaded.version or state.removed > loaded.version:
            return load_whole(store)  # the graph was rebuilt, or rows were removed since
        limit = min(max_delta, max(1_000, int(MAX_DELTA_SHARE * loaded.graph.ecount())))
        e, n = graph_edges.c, graph_nodes.c
        edges = conn.execute(
            select(e.id, e.src, e.dst, e.kind, e.count)
            .where(e.touched > loaded.version)
            .order_by(e.id)
            .limit(limit + 1)
        ).all()
        if len(edges) > limit:
            return load_whole(store)
        nodes = conn.execute(
            select(n.id, n.kind).where(n.touched > loaded.version, n.id > loaded.top_node).order_by(n.id)
        ).all()
    out = _apply(loaded, current, nodes, edges)
    if out is None or (n_nodes is not None and out.graph.vcount() < n_nodes):
        return load_whole(store)
    if n_edges is not None and out.graph.ecount() < n_edges:
        return load_whole(store)
    return out


def _apply(loaded: Loaded, current: int, nodes: Sequence[Any], edges: Sequence[Any]) -> Loaded | None:
    """A copy of ``loaded`` with the new nodes, the new edges and the new weights of changed edges; None
    where a new row's id is below the loaded ones (the order a full load gives could not be kept)."""
    old_ids = loaded.edge_ids
    ids = np.fromiter((r[0] for r in edges), dtype=np.int64, count=len(edges))
    pos = np.searchsorted(old_ids, ids)
    known = np.zeros(len(ids), dtype=bool)
    if len(old_ids):
        known = (pos < len(old_ids)) & (old_ids[np.minimum(pos, len(old_ids) - 1)] == ids)
    top = int(old_ids[-1]) if len(old_ids) else 0
    fresh = np.flatnonzero(~known)
    if len(fresh) and int(ids[fresh[0]]) <= top:
        return None
    memo = {"edge_ends": loaded.memo["edge_ends"]} if "edge_ends" in loaded.memo else {}  # structural
    if not nodes and not edges:  # only node details changed (read from the store anyway): share the graph
        return Loaded(current, loaded.graph, loaded.index, old_ids, memo, loaded.top_node, how="delta")
    g = loaded.graph.copy()
    index, top_node = loaded.index, loaded.top_node
    if nodes:
        top_node = int(nodes[-1][0])
        index = dict(index)
        first = g.vcount()
        index.update((int(r[0]), first + k) for k, r in enumerate(nodes))
        db_ids, kinds = [int(r[0]) for r in nodes], [r[1] for r in nodes]
        g.add_vertices(len(nodes), attributes={"db_id": db_ids, "kind": kinds})
    changed = np.flatnonzero(known)
    if len(changed):
        g.es.select(pos[changed].tolist())["weight"] = [weight(edges[i][4]) for i in changed.tolist()]
    added = [edges[i] for i in fresh.tolist() if edges[i][1] in index and edges[i][2] in index]
    edge_ids = old_ids
    if added:
        pairs = [(index[r[1]], index[r[2]]) for r in added]
        weights = [weight(r[4]) for r in added]
        g.add_edges(pairs, attributes={"kind": [r[3] for r in added], "weight": weights})
        edge_ids = np.concatenate([old_ids, np.fromiter((r[0] for r in added), dtype=np.int64)])
        if "edge_ends" in memo:  # the new edges' ends appended
            memo["edge_ends"] = np.concatenate([memo["edge_ends"], np.asarray(pairs, dtype=np.int64)])
    # Everything else derived (communities, rankings) was for the old version: computed again on demand.
    return Loaded(current, g, index, edge_ids, memo, top_node, how="delta")
