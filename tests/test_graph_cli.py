"""``vigil graph`` through the real command line: catch-up on first query, exports, ego by account,
communities, and usage errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from vigil.graph.synthetic import outlet_network
from vigil.store import Store

VIGIL = [sys.executable, "-m", "vigil"]


def run(args: list[str], home: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIGIL_HOME": str(home)}
    env.pop("VIGIL_DATABASE_URL", None)
    if not database_url.startswith("sqlite"):
        env["VIGIL_DATABASE_URL"] = database_url
    return subprocess.run([*VIGIL, *args], env=env, capture_output=True, text=True, timeout=300)


def test_graph_commands(tmp_path: Path, home: Path, store: Store, database_url: str) -> None:
    items, truth = outlet_network(n_mirrors=4, n_spreaders=20, n_bystanders=60, n_releases=6, n_groups=4)
    store.add_items(items)  # stored without the hook: the first query graphs them
    first = run(["graph", "stats"], home, database_url)
    assert first.returncode == 0, first.stderr
    counted = json.loads(first.stdout)
    assert counted["items_graphed"] == len(items) and counted["items_pending"] == 0
    assert json.loads(run(["graph", "update"], home, database_url).stdout)["items"] == 0

    exported = run(["graph", "export", "--format", "json"], home, database_url)
    data = json.loads(exported.stdout)
    assert len(data["nodes"]) == counted["nodes"] and len(data["links"]) == counted["edges"]

    admin = truth.admins[0]
    assert store.identities is not None  # the store keeps accounts as pseudonyms
    ego = json.loads(run(["graph", "ego", "--account", admin], home, database_url).stdout)
    assert ego["center"]["key"] == "account:" + store.identities.account_key(admin)
    assert admin.split(":")[1] not in json.dumps(ego)
    by_key = json.loads(run(["graph", "ego", "account:" + admin], home, database_url).stdout)
    assert by_key["center"]["key"] == ego["center"]["key"]

    groups = json.loads(run(["graph", "communities", "--method", "louvain"], home, database_url).stdout)
    assert groups["count"] >= 2 and groups["communities"][0]["size"] >= groups["communities"][-1]["size"]
    key = [
        json.loads(x) for x in run(["graph", "actors", "--top", "5"], home, database_url).stdout.splitlines()
    ]
    assert len(key) == 5 and all(r["kind"] == "account" and r["reasons"] for r in key)

    assert run(["graph", "export", "--format", "pdf"], home, database_url).returncode == 2
    assert run(["graph", "lineage", "--outlet", "no such outlet"], home, database_url).returncode == 2
    assert run(["graph", "ego", "domain:none.example"], home, database_url).returncode == 2
    assert run(["graph", "ego", "--since", "yesterday", "x"], home, database_url).returncode == 2
    assert run(["graph", "outlet", "add", "X", "--channel", "nocolon"], home, database_url).returncode == 2


def test_scan_graphs_items_as_they_arrive(
    tmp_path: Path, home: Path, store: Store, database_url: str
) -> None:
    """``vigil scan`` runs the pipeline's graph hook: the graph holds the items with no catch-up."""
    first = tmp_path / "first.jsonl"
    records = [
        {
            "id": f"p{n}",
            "text": f"placeholder {n}",
            "account": f"user{n % 3}",
            "channel": "chan_a",
            "published": f"2024-05-0{1 + n % 5}T10:00:00+00:00",
            "links": [f"https://site{n % 2}.example/x"],
            "outlet": "Outlet Placeholder",
        }
        for n in range(12)
    ]
    first.write_text("\n".join(json.dumps(r) for r in records) + "\n", "utf-8")
    scanned = run(["scan", "--json", str(first)], home, database_url)
    assert scanned.returncode == 0, scanned.stderr
    assert json.loads(scanned.stdout)["new_items"] == 12
    done = run(["graph", "stats", "--no-update"], home, database_url)
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)
    assert stats["items_graphed"] == 12 and stats["items_pending"] == 0
    assert stats["nodes_by_kind"] == {"account": 3, "channel": 1, "domain": 2, "outlet": 1}
    # 3 accounts x 2 sites: every pair occurs (n % 3, n % 2 over 12 items)
    assert stats["edges_by_kind"] == {"links-to": 6, "mirrors": 1, "posted": 3}

    second = tmp_path / "second.jsonl"
    second.write_text(
        json.dumps({"id": "q1", "text": "placeholder", "account": "user9", "channel": "chan_b"}) + "\n",
        "utf-8",
    )
    assert run(["scan", str(second)], home, database_url).returncode == 0
    after = json.loads(run(["graph", "stats", "--no-update"], home, database_url).stdout)
    assert after["items_graphed"] == 13 and after["version"] > stats["version"]
    assert after["nodes_by_kind"]["account"] == 4 and after["nodes_by_kind"]["channel"] == 2
    assert "user9" not in json.dumps(run(["graph", "export", "--format", "json"], home, database_url).stdout)
