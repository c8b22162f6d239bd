"""Key actors by several centralities, each with the reason it ranks high.

Degree and PageRank run on the whole graph (linear time in igraph). Betweenness is quadratic, so it is
estimated on a sample: the union of the ego networks of the top nodes by PageRank (capped), which is
where the brokers between communities sit, from a fixed sample of source nodes.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import igraph as ig
import numpy as np

from vigil.graph.state import cached
from vigil.graph.view import GraphView, node_public, node_rows

CORE_SEEDS = 300
CORE_CAP = 20_000
SOURCES = 256


def _percentile_rank(values: np.ndarray) -> np.ndarray:
    order = values.argsort(kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    return ranks / max(1, len(values) - 1)


def _core(g: ig.Graph, pagerank: np.ndarray) -> list[int]:
    seeds = np.argsort(-pagerank)[:CORE_SEEDS]
    core: set[int] = set(int(s) for s in seeds)
    for s in seeds:
        if len(core) >= CORE_CAP:
            break
        core.update(g.neighbors(int(s), mode="all")[:200])
    return sorted(core)


def compute_centralities(view: GraphView) -> dict[str, Any]:
    loaded = view.whole()
    g = loaded.graph
    if g.vcount() == 0:
        return {"db_ids": [], "degree": [], "pagerank": [], "betweenness": []}
    degree = np.asarray(g.degree(mode="all"), dtype=float)
    pagerank = np.asarray(g.pagerank(directed=False, weights=None), dtype=float)
    core = _core(g, pagerank)
    sub = g.induced_subgraph(core)
    # Shortest paths from a fixed sample of sources, scaled up: an estimate, linear in the sample size.
    rng = np.random.default_rng(7)
    sources = sorted(rng.choice(sub.vcount(), size=min(SOURCES, sub.vcount()), replace=False).tolist())
    scale = sub.vcount() / max(1, len(sources))
    between_core = np.asarray(sub.betweenness(directed=False, sources=sources), dtype=float) * scale
    between = np.zeros(g.vcount())
    between[core] = between_core
    return {
        "db_ids": list(g.vs["db_id"]),
        "degree": degree.tolist(),
        "pagerank": pagerank.tolist(),
        "betweenness": between.tolist(),
        "core_size": len(core),
    }


def key_actors(view: GraphView, top: int = 20, kinds: tuple[str, ...] = ("account",)) -> list[dict[str, Any]]:
    metrics = cached(view.store, "centralities", lambda: compute_centralities(view))
    if not metrics["db_ids"]:
        return []
    loaded = view.whole()
    g = loaded.graph
    kind = np.asarray(g.vs["kind"])
    # A node without edges is nobody's key actor (and ties at zero would rank arbitrarily).
    mask = np.isin(kind, list(kinds)) & (np.asarray(metrics["degree"], dtype=float) > 0)
    if not mask.any():
        return []
    idx = np.flatnonzero(mask)
    names = ("degree", "pagerank", "betweenness")
    arrays = {m: np.asarray(metrics[m], dtype=float)[idx] for m in names}
    pct = {m: _percentile_rank(arrays[m]) for m in names}
    score: np.ndarray = np.mean([pct[m] for m in names], axis=0)
    order = np.argsort(-score, kind="stable")[:top]
    rank_of = {
        m: {int(i): r for r, i in enumerate(np.argsort(-arrays[m], kind="stable")[: top * 10], 1)}
        for m in names
    }
    rows = node_rows(view.store, (int(g.vs[int(idx[o])]["db_id"]) for o in order))
    out = []
    for rank, o in enumerate(order, 1):
        v = int(idx[o])
        db_id = int(g.vs[v]["db_id"])
        neighbour_kinds = Counter(g.vs[n]["kind"] for n in g.neighbors(v, mode="all"))
        beyond = f">{top * 10}"
        reasons = [
            f"degree {int(arrays['degree'][o])} (rank {rank_of['degree'].get(int(o), beyond)} of "
            f"{len(idx)}): linked to " + ", ".join(f"{c} {k}" for k, c in neighbour_kinds.most_common(3)),
            f"PageRank {arrays['pagerank'][o]:.2e} (rank {rank_of['pagerank'].get(int(o), beyond)}):"
            " linked to nodes that are themselves well linked",
        ]
        if arrays["betweenness"][o] > 0:
            reasons.append(
                f"betweenness {arrays['betweenness'][o]:.0f} in the sampled core (rank "
                f"{rank_of['betweenness'].get(int(o), beyond)}): a bridge between groups"
            )
        out.append(
            {
                "rank": rank,
                "role": "key-actor",
                "score": round(float(score[o]), 4),
                **node_public(rows[db_id]),
                "metrics": {m: float(arrays[m][o]) for m in names},
                "reasons": reasons,
            }
        )
    return out
