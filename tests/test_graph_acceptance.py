"""Acceptance: on a synthetic network with known ground truth, ingested through the store and the
pipeline's graph hook, the real CLI ranks the outlet's administrators first and returns its domain chain
in order; the GEXF export opens in NetworkX with the same nodes, edges and attributes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from vigil.graph.stats import stats
from vigil.graph.synthetic import outlet_network
from vigil.graph.update import update_graph
from vigil.ingest.pipeline import Pipeline
from vigil.store import Store

VIGIL = [sys.executable, "-m", "vigil"]


def run(args: list[str], home: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIGIL_HOME": str(home)}
    env.pop("VIGIL_DATABASE_URL", None)
    if not database_url.startswith("sqlite"):
        env["VIGIL_DATABASE_URL"] = database_url
    done = subprocess.run([*VIGIL, *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


def lines(done: subprocess.CompletedProcess[str]) -> list[dict]:
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


@pytest.mark.slow
def test_outlet_admins_lineage_and_gexf(tmp_path: Path, home: Path, store: Store, database_url: str) -> None:
    items, truth = outlet_network()
    run(
        [
            "graph",
            "outlet",
            "add",
            truth.outlet,
            "--channel",
            truth.main_channel,
            "--domain",
            truth.domains[0],
        ],
        home,
        database_url,
    )
    guard = store.identities  # the store pseudonymises accounts; the graph keys them by pseudonym
    assert guard is not None
    pipeline = Pipeline(store, [], hooks=[lambda fresh: update_graph(store, fresh)])
    for start in range(0, len(items), 2500):
        pipeline.process(items[start : start + 2500])
    counts = stats(store)
    assert counts["items_graphed"] == len(items)

    ranked = lines(run(["graph", "actors", "--outlet", truth.outlet, "--top", "10"], home, database_url))
    admins = {"account:" + guard.account_key(key) for key in truth.admins}
    assert {row["key"] for row in ranked[:3]} == admins
    assert all(row["reasons"] and row["role"] == "likely-administrator" for row in ranked[:3])
    everyone_else = {"account:" + guard.account_key(k) for k in truth.spreaders + truth.bystanders}
    assert not {row["key"] for row in ranked[3:]} - everyone_else  # nothing but accounts after them
    # The clear handles are nowhere in the graph's output.
    assert "admin0" not in json.dumps(ranked)
    assert not (home / "graph-pseudonym.key").exists()  # no second pseudonym layer with the guard

    chain = lines(run(["graph", "lineage", "--outlet", truth.outlet], home, database_url))
    assert [row["domain"] for row in chain] == truth.domains
    assert [row["replaces"] for row in chain] == [None, *truth.domains[:-1]]
    assert all(row["replaced_at"] and row["evidence"] for row in chain[1:])
    assert chain[1]["replaced_at"] >= chain[0]["last_seen"]

    out = tmp_path / "graph.gexf"
    summary = lines(run(["graph", "export", "--format", "gexf", "--out", str(out)], home, database_url))[0]
    g = nx.read_gexf(out)
    assert g.number_of_nodes() == counts["nodes"] == summary["nodes"]
    assert g.number_of_edges() == counts["edges"] == summary["edges"]
    kinds: dict[str, int] = {}
    for _, data in g.nodes(data=True):
        kinds[data["kind"]] = kinds.get(data["kind"], 0) + 1
        assert {"node_key", "label", "first_seen", "last_seen", "items"} <= set(data)
    assert kinds == counts["nodes_by_kind"]
    edge_kinds: dict[str, int] = {}
    for _, _, data in g.edges(data=True):
        edge_kinds[data["kind"]] = edge_kinds.get(data["kind"], 0) + 1
        assert {"first_seen", "last_seen", "count", "evidence", "evidence_count"} <= set(data)
    assert edge_kinds == counts["edges_by_kind"]
