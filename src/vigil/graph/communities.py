"""Communities: Leiden (igraph's, modularity) on the undirected, count-weighted graph; NetworkX's Louvain
on request for small graphs. Membership is cached per graph version; when the graph has grown, Leiden
starts from the last membership (new nodes alone), so a recomputation refines rather than restarts.

A graph without edges (nodes only: what scanning posts with accounts but no links or forwards gives) has
no community structure: every node is its own community and the modularity is undefined (``None``),
without calling either library (igraph's modularity is NaN there, NetworkX's divides by zero)."""

from __future__ import annotations

import math
import random
from collections import Counter
from typing import Any

import igraph as ig
import networkx as nx
import numpy as np

from vigil.errors import UsageError
from vigil.graph.state import warm_cached
from vigil.graph.view import GraphView, node_rows

LOUVAIN_MAX_NODES = 20_000


def membership(view: GraphView, method: str = "leiden") -> dict[str, Any]:
    if method not in {"leiden", "louvain"}:
        raise UsageError("method must be leiden or louvain")
    return warm_cached(view.store, f"communities:{method}", lambda before: _compute(view, method, before))


def _compute(view: GraphView, method: str, before: dict[str, Any] | None = None) -> dict[str, Any]:
    g = view.whole().graph.as_undirected(mode="collapse", combine_edges={"weight": "sum"})
    if g.vcount() == 0:
        return {"db_ids": [], "membership": [], "quality": None}
    if g.ecount() == 0:
        return {"db_ids": list(g.vs["db_id"]), "membership": list(range(g.vcount())), "quality": None}
    if method == "louvain":
        if g.vcount() > LOUVAIN_MAX_NODES:
            raise UsageError(f"louvain is for graphs under {LOUVAIN_MAX_NODES} nodes; use leiden")
        nxg = nx.Graph()
        nxg.add_nodes_from(range(g.vcount()))
        nxg.add_weighted_edges_from((e.source, e.target, e["weight"]) for e in g.es)
        parts = nx.community.louvain_communities(nxg, weight="weight", seed=7)
        member = [0] * g.vcount()
        for c, part in enumerate(sorted(parts, key=len, reverse=True)):
            for v in part:
                member[v] = c
        quality = _finite(nx.community.modularity(nxg, parts, weight="weight"))
    else:
        member, quality = _leiden(g, before)
    return {"db_ids": list(g.vs["db_id"]), "membership": member, "quality": quality}


def _finite(value: float) -> float | None:
    """A modularity as JSON can carry it: None where it is undefined (NaN)."""
    number = float(value)
    return number if math.isfinite(number) else None


def _leiden(g: ig.Graph, before: dict[str, Any] | None) -> tuple[list[int], float | None]:
    start = None
    if before and before.get("db_ids") and len(before["db_ids"]) == len(before.get("membership") or ()):
        known = dict(zip(before["db_ids"], before["membership"], strict=True))
        fresh = iter(range(max(before["membership"], default=-1) + 1, 1 << 62))
        labels = [known[i] if i in known else next(fresh) for i in g.vs["db_id"]]
        start = np.unique(labels, return_inverse=True)[1].tolist()  # 0..k-1, as igraph wants
    rng = random.Random(7)  # the same partition for the same graph
    ig.set_random_number_generator(rng)
    try:
        found = g.community_leiden(
            objective_function="modularity", weights="weight", n_iterations=2, initial_membership=start
        )
    finally:
        ig.set_random_number_generator(random)
    _, inverse, counts = np.unique(np.asarray(found.membership), return_inverse=True, return_counts=True)
    order = np.argsort(-counts, kind="stable")  # community 0 is the largest
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    member = rank[inverse].tolist()
    return member, _finite(g.modularity(member, weights="weight"))


def communities(view: GraphView, method: str = "leiden", top: int = 20, members: int = 5) -> dict[str, Any]:
    result = membership(view, method)
    groups: dict[int, list[int]] = {}
    for db_id, c in zip(result["db_ids"], result["membership"], strict=True):
        groups.setdefault(c, []).append(db_id)
    loaded = view.whole()
    degree = loaded.graph.degree(mode="all")
    biggest = sorted(groups.items(), key=lambda kv: -len(kv[1]))[:top]
    wanted = [
        i
        for _, ids in biggest
        for i in sorted(ids, key=lambda x: -degree[loaded.index[x]])[:members]
        if i in loaded.index
    ]
    rows = node_rows(view.store, wanted)
    out = []
    for c, ids in biggest:
        kinds = Counter(loaded.graph.vs[loaded.index[i]]["kind"] for i in ids if i in loaded.index)
        top_ids = sorted(ids, key=lambda x: -degree[loaded.index[x]] if x in loaded.index else 0)[:members]
        out.append(
            {
                "community": c,
                "size": len(ids),
                "kinds": dict(kinds.most_common()),
                "central": [
                    {"id": i, "key": rows[i]["key"], "label": rows[i]["label"]} for i in top_ids if i in rows
                ],
            }
        )
    return {"method": method, "modularity": result["quality"], "count": len(groups), "communities": out}


def community_of(view: GraphView, method: str = "leiden") -> dict[int, int]:
    """Node db id -> community (kept on the view for the version it holds)."""

    def compute() -> dict[int, int]:
        result = membership(view, method)
        return dict(zip(result["db_ids"], result["membership"], strict=True))

    return view.remember(f"community_of:{method}", compute)
