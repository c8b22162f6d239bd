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
