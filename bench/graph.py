"""Graph benchmark: build time and memory for a synthetic network (default 1M items, 100k accounts),
then the time of each analysis, first run (cold) and second run (cached / warm view).

    .venv/bin/python bench/graph.py [--items 1000000] [--accounts 100000] [--budget 900] [--db URL]

Items go through the store and the incremental graph update in batches, as the pipeline hook does. If
the build exceeds --budget seconds it stops there and the analyses run on what was built (the report says
so). Prints a table on stderr and one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vigil.config import Config
from vigil.graph.admins import administrators
from vigil.graph.centrality import key_actors
from vigil.graph.communities import communities
from vigil.graph.export import export_file
from vigil.graph.lineage import lineage
from vigil.graph.paths import ego, shortest_path
from vigil.graph.pseudonym import Pseudonymiser
from vigil.graph.spreaders import spreaders
from vigil.graph.stats import stats
from vigil.graph.synthetic import stream_network
from vigil.graph.update import update_graph
from vigil.graph.view import GraphView
from vigil.store import Store

err = Console(stderr=True)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def build(store: Store, ps: Pseudonymiser, n_items: int, n_accounts: int, budget: float) -> dict[str, Any]:
    t_store = t_graph = 0.0
    done = 0
    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]building"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    ) as bar:
        task = bar.add_task("items", total=n_items)
        for batch in stream_network(n_items, n_accounts, batch=5000):
            t0 = time.perf_counter()
            store.add_items(batch)
            t1 = time.perf_counter()
            update_graph(store, batch, ps)
            t2 = time.perf_counter()
            t_store += t1 - t0
            t_graph += t2 - t1
            done += len(batch)
            bar.advance(task, len(batch))
            if time.perf_counter() - started > budget:
                break
    return {
        "items_built": done,
        "items_asked": n_items,
        "complete": done >= n_items,
        "store_s": round(t_store, 2),
        "graph_s": round(t_graph, 2),
        "graph_items_per_s": round(done / t_graph, 1) if t_graph else None,
        "peak_rss_mb": round(rss_mb(), 1),
    }


def analyses(store: Store, home: Path) -> list[dict[str, Any]]:
    view = GraphView(store)
    rows: list[dict[str, Any]] = []

    def run(name: str, fn: Callable[[], Any], twice: bool = True) -> Any:
        cold, out = timed(fn)
        warm = timed(fn)[0] if twice else None
        rows.append(
            {
                "analysis": name,
                "cold_s": round(cold, 3),
                "warm_s": round(warm, 3) if warm is not None else None,
            }
        )
        return out

    run("stats", lambda: stats(store))
    run("load whole graph (igraph)", lambda: view.whole())
    run("key actors (degree, PageRank, sampled betweenness)", lambda: key_actors(view, 20))
    run("communities (Leiden)", lambda: communities(view))
    admins = run("administrators of an outlet", lambda: administrators(store, "Outlet 0", 10))
    run("spreaders", lambda: spreaders(store, 20))
    run("lineage of an outlet", lambda: lineage(store, "Outlet 0"))
    center = admins[0]["key"] if admins else "outlet:outlet 0"
    run("ego graph, radius 2", lambda: ego(store, center, radius=2))
    run("shortest path", lambda: shortest_path(view, center, "outlet:outlet 1"))
    run("export GEXF", lambda: export_file(store, "gexf", home / "bench.gexf"), twice=False)
    rows.append({"analysis": "peak RSS after analyses (MB)", "cold_s": round(rss_mb(), 1), "warm_s": None})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--budget", type=float, default=900.0, help="Stop building after this many seconds.")
    parser.add_argument("--db", default="", help="Database URL (default: a temporary SQLite file).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vigil-bench-graph-") as tmp:
        home = Path(tmp)
        store = Store.open(Config.load(home), url=args.db or None)
        try:
            ps = Pseudonymiser.for_home(home)
            built = build(store, ps, args.items, args.accounts, args.budget)
            size = stats(store)
            results = analyses(store, home)
        finally:
            store.close()
    table = Table(
        title=f"graph: {built['items_built']:,} items, {size['nodes']:,} nodes, {size['edges']:,} edges"
    )
    table.add_column("step")
    table.add_column("cold s", justify="right")
    table.add_column("warm s", justify="right")
    table.add_row("store.add_items (all batches)", str(built["store_s"]), "")
    table.add_row(
        "graph update (all batches)", str(built["graph_s"]), f"{built['graph_items_per_s']} items/s"
    )
    table.add_row("peak RSS after build (MB)", str(built["peak_rss_mb"]), "")
    for r in results:
        table.add_row(r["analysis"], str(r["cold_s"]), "" if r["warm_s"] is None else str(r["warm_s"]))
    err.print(table)
    if not built["complete"]:
        err.print(
            f"[yellow]stopped building after {args.budget:.0f} s at {built['items_built']:,} of "
            f"{args.items:,} items; the analyses ran on that graph[/]"
        )
    json.dump({"build": built, "graph": size, "analyses": results}, sys.stdout, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
