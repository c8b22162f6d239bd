"""Graph benchmark: build time and memory for a synthetic network (default 1M items, 100k accounts), the
cost of the pipeline hook on that graph, then the time of each analysis, first run (cold) and second run
(cached / warm view).

    .venv/bin/python bench/graph.py [--items 1000000] [--accounts 100000] [--budget 900] [--db URL]
        [--delta-batches 5] [--export-baseline main]

Items are stored first (``store.add_items`` in batches of 5,000, as a scan does), then graphed in bulk by
``catch_up`` (what ``vigil graph update`` and every query command run). Then ``--hook-items`` more items go
through the pipeline in batches of 500, graphed as they arrive by its registered hook. If storing exceeds
--budget seconds it stops there and the rest runs on what was stored (the report says so). After the
analyses, ``--delta-batches`` more batches of 500 go through the pipeline one at a time, and after each
the view a server holds (``GraphView.whole()``, which applies the changed rows) is timed against a full
load of the same graph, in the same process. With ``--export-baseline REV`` the GEXF export is also
written by ``export.py`` as it was at git revision REV, timed, and compared byte for byte with this one.
The crash guard (``vigil.graph.isolation``) is measured after the analyses: the start of the analysis
process and each analysis a request makes, warm, in process and apart (``--guard-repeat`` requests each,
median); the succession inference is timed inside the hook's batches. Wall and CPU seconds are both
printed: the machine may be shared. A table on stderr, one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import Item
from vigil.graph import update as graph_update
from vigil.graph.admins import administrators
from vigil.graph.centrality import key_actors
from vigil.graph.communities import communities
from vigil.graph.export import export_file
from vigil.graph.isolation import InProcess, Isolated
from vigil.graph.lineage import lineage
from vigil.graph.loaded import load_whole
from vigil.graph.network import network
from vigil.graph.paths import ego, shortest_path
from vigil.graph.spreaders import spreaders
from vigil.graph.stats import stats
from vigil.graph.succession import affected_outlets
from vigil.graph.synthetic import stream_network
from vigil.graph.update import catch_up
from vigil.graph.view import GraphView, resolve_node
from vigil.ingest.pipeline import Pipeline
from vigil.store import Store

err = Console(stderr=True)
HOOK_BATCH = 500


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall seconds, CPU seconds of this process, result."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def build(store: Store, batches: Iterator[list[Item]], n_items: int, budget: float) -> dict[str, Any]:
    store_wall = store_cpu = 0.0
    done = 0
    with Progress(
        TextColumn("[bold]storing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    ) as bar:
        task = bar.add_task("items", total=n_items)
        for batch in batches:
            wall, cpu, _ = timed(lambda b=batch: store.add_items(b))  # type: ignore[misc]
            store_wall += wall
            store_cpu += cpu
            done += len(batch)
            bar.advance(task, len(batch))
            if done >= n_items or store_wall > budget:
                break
    err.print(f"graphing {done:,} stored items (catch-up) …")
    graph_wall, graph_cpu, result = timed(lambda: catch_up(store))
    return {
        "items_built": result.items,
        "items_asked": n_items,
        "complete": result.items >= n_items,
        "store_s": round(store_wall, 2),
        "store_cpu_s": round(store_cpu, 2),
        "graph_s": round(graph_wall, 2),
        "graph_cpu_s": round(graph_cpu, 2),
        "graph_items_per_s": round(result.items / graph_wall, 1) if graph_wall else None,
        "peak_rss_mb": round(rss_mb(), 1),
    }


def hook(store: Store, batches: Iterator[list[Item]], n_items: int) -> dict[str, Any]:
    """More items through the pipeline (no detectors): each batch is graphed by the registered hook. The
    succession inference inside it (``infer_successions``) is timed on its own."""
    pipeline = Pipeline(store, [])
    assert pipeline.hooks, "the graph hook is not registered (pip install -e . to refresh entry points)"
    inference: list[float] = []
    reconciled: list[int] = []
    infer = graph_update.infer_successions

    def timed_inference(conn: Any, written: Any) -> Any:
        start = time.perf_counter()
        reconciled.append(len(affected_outlets(conn, written)))
        out = infer(conn, written)
        inference.append(time.perf_counter() - start)
        return out

    graph_update.infer_successions = timed_inference
    pending: list[Item] = []
    for batch in batches:
        pending.extend(batch)
        if len(pending) >= n_items:
            break
    pending = pending[:n_items]
    before = stats(store)["items_graphed"]
    wall, cpu, _ = timed(
        lambda: [pipeline.process(pending[i : i + HOOK_BATCH]) for i in range(0, len(pending), HOOK_BATCH)]
    )
    graph_update.infer_successions = infer
    graphed = stats(store)["items_graphed"] - before
    return {
        "items": len(pending),
        "graphed_by_hook": graphed,
        "inference_ms_per_batch": round(1000 * sum(inference) / max(1, len(inference)), 2),
        "inference_max_ms": round(1000 * max(inference, default=0.0), 2),
        "outlets_reconciled_per_batch": round(sum(reconciled) / max(1, len(reconciled)), 2),
        "batch": HOOK_BATCH,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "items_per_s": round(len(pending) / wall, 1) if wall else None,
        "ms_per_batch": round(1000 * wall / max(1, -(-len(pending) // HOOK_BATCH)), 1),
    }


def delta(store: Store, batches: Iterator[list[Item]], n_batches: int) -> dict[str, Any]:
    """After each batch the pipeline stores (and graphs), the server's view brought up to date by the
    changed rows, against a full load of the same graph, both timed here."""
    pipeline = Pipeline(store, [])
    view = GraphView(store)
    view.whole()
    pending: list[Item] = []
    delta_s: list[float] = []
    full_s: list[float] = []
    for batch in batches:
        pending.extend(batch)
        while len(pending) >= HOOK_BATCH and len(delta_s) < n_batches:
            pipeline.process(pending[:HOOK_BATCH])
            del pending[:HOOK_BATCH]
            wall, _, loaded = timed(view.whole)
            assert loaded.how == "delta", loaded.how
            delta_s.append(wall)
            wall, _, fresh = timed(lambda: load_whole(store))
            full_s.append(wall)
            assert fresh.graph.get_edgelist() == loaded.graph.get_edgelist()
            assert fresh.graph.es["weight"] == loaded.graph.es["weight"]
        if len(delta_s) >= n_batches:
            break
    mid_delta, mid_full = sorted(delta_s)[len(delta_s) // 2], sorted(full_s)[len(full_s) // 2]
    return {
        "batches": len(delta_s),
        "batch": HOOK_BATCH,
        "delta_s": [round(x, 3) for x in delta_s],
        "full_s": [round(x, 3) for x in full_s],
        "median_delta_s": round(mid_delta, 3),
        "median_full_s": round(mid_full, 3),
        "ratio": round(mid_full / mid_delta, 1) if mid_delta else None,
    }


def guard(store: Store, repeat: int) -> list[dict[str, Any]]:
    """What running the analyses apart costs a request: the child's start (spawn, imports, its full load
    of the graph) against a full load here; then each analysis a request makes, warm (graph loaded,
    result cached), as the server did it before, in the request's thread (``InProcess`` here, then
    ``jsonable_encoder`` and the JSON FastAPI renders) and as it does now (``Isolated.run_json``: the
    child computes and encodes, the server sends the bytes), the two alternated ``repeat`` times. The
    machine is shared: the minimum is the cost, the median what a request saw. The HTTP framing around
    either is the same and left out."""
    from fastapi.encoders import jsonable_encoder

    def before(name: str, args: tuple[Any, ...]) -> bytes:
        answer = jsonable_encoder(here.run(name, *args))
        return json.dumps(answer, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()

    here = InProcess(store)
    apart = Isolated(store)
    rows: list[dict[str, Any]] = []
    try:
        full = timed(lambda: load_whole(store))[0]
        start = timed(lambda: apart.run("held"))[0]
        rows.append(
            {
                "request": "first analysis: child started, graph loaded there (vs a full load here)",
                "before_min_s": round(full, 3),
                "after_min_s": round(start, 3),
                "added_min_ms": round(1000 * (start - full), 1),
            }
        )
        center = resolve_node(store, "outlet:outlet 0")
        other = resolve_node(store, "outlet:outlet 1")
        asks: list[tuple[str, str, tuple[Any, ...]]] = [
            ("network view (300 nodes)", "network", ((), None, None, None, 300)),
            ("network view (2000 nodes)", "network", ((), None, None, None, 2000)),
            ("communities", "communities", ("leiden",)),
            ("key actors", "key_actors", (20,)),
            ("shortest path", "path", (center, other)),
        ]
        for label, name, args in asks:
            body = before(name, args)  # warm both: graph loaded, results cached for this version
            assert json.loads(apart.run_json(name, *args)) == json.loads(body)  # the same answer
            old: list[float] = []
            new: list[float] = []
            for _ in range(repeat):
                old.append(timed(lambda n=name, a=args: before(n, a))[0])  # type: ignore[misc]
                new.append(timed(lambda n=name, a=args: apart.run_json(n, *a))[0])  # type: ignore[misc]
            old.sort()
            new.sort()
            rows.append(
                {
                    "request": label,
                    "before_min_s": round(old[0], 4),
                    "after_min_s": round(new[0], 4),
                    "added_min_ms": round(1000 * (new[0] - old[0]), 2),
                    "before_median_s": round(old[repeat // 2], 4),
                    "after_median_s": round(new[repeat // 2], 4),
                    "added_median_ms": round(1000 * (new[repeat // 2] - old[repeat // 2]), 2),
                    "answer_kb": round(len(body) / 1024, 1),
                }
            )
    finally:
        apart.close()
    return rows


def export_baseline(store: Store, home: Path, rev: str) -> dict[str, Any]:
    """The GEXF export written by ``export.py`` of git revision ``rev`` and by the current one: times,
    and whether the bytes are the same (the date in the header is the same within a day)."""
    import importlib.util
    import subprocess

    source = subprocess.run(
        ["git", "show", f"{rev}:src/vigil/graph/export.py"], check=True, capture_output=True, text=True
    ).stdout
    path = home / "export_baseline.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("export_baseline", path)
    assert spec is not None and spec.loader is not None
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    before_s, before_cpu, _ = timed(lambda: old.export_file(store, "gexf", home / "before.gexf"))
    after_s, after_cpu, _ = timed(lambda: export_file(store, "gexf", home / "after.gexf"))
    same = (home / "before.gexf").read_bytes() == (home / "after.gexf").read_bytes()
    return {
        "rev": rev,
        "before_s": round(before_s, 2),
        "before_cpu_s": round(before_cpu, 2),
        "after_s": round(after_s, 2),
        "after_cpu_s": round(after_cpu, 2),
        "ratio": round(before_s / after_s, 2) if after_s else None,
        "same_bytes": same,
        "bytes": (home / "after.gexf").stat().st_size,
    }


def analyses(store: Store, home: Path) -> list[dict[str, Any]]:
    view = GraphView(store)
    rows: list[dict[str, Any]] = []

    def run(name: str, fn: Callable[[], Any], twice: bool = True) -> Any:
        cold, cpu, out = timed(fn)
        warm = timed(fn)[0] if twice else None
        rows.append(
            {
                "analysis": name,
                "cold_s": round(cold, 3),
                "cold_cpu_s": round(cpu, 3),
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
    run("network view (300 nodes, accounts and channels)", lambda: network(view, ("account", "channel")))
    run("export GEXF (streamed)", lambda: export_file(store, "gexf", home / "bench.gexf"), twice=False)
    rows.append({"analysis": "peak RSS after analyses (MB)", "cold_s": round(rss_mb(), 1), "warm_s": None})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--hook-items", type=int, default=10_000, help="Items then graphed by the hook.")
    parser.add_argument("--budget", type=float, default=900.0, help="Stop storing after this many seconds.")
    parser.add_argument("--db", default="", help="Database URL (default: a temporary SQLite file).")
    parser.add_argument("--delta-batches", type=int, default=5, help="Batches timed: delta vs full load.")
    parser.add_argument("--export-baseline", default="", help="Git revision whose GEXF writer to compare.")
    parser.add_argument("--guard-repeat", type=int, default=21, help="Requests timed per analysis (guard).")
    parser.add_argument("--guard-only", action="store_true", help="Build, then time only the crash guard.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vigil-bench-graph-") as tmp:
        home = Path(tmp)
        store = open_store(Config.load(home), url=args.db or None)
        try:
            extra = args.hook_items + args.delta_batches * HOOK_BATCH + 2 * 5000  # batches part-used
            batches = stream_network(args.items + extra, args.accounts, batch=5000)
            built = build(store, batches, args.items, args.budget)
            size = stats(store)
            if args.guard_only:
                guarded = guard(store, args.guard_repeat)
                json.dump({"build": built, "graph": size, "guard": guarded}, sys.stdout, default=str)
                sys.stdout.write("\n")
                return
            hooked = hook(store, batches, args.hook_items)
            results = analyses(store, home)
            guarded = guard(store, args.guard_repeat) if args.guard_repeat else []
            deltas = delta(store, batches, args.delta_batches) if args.delta_batches else None
            baseline = export_baseline(store, home, args.export_baseline) if args.export_baseline else None
        finally:
            store.close()
    table = Table(
        title=f"graph: {built['items_built']:,} items, {size['nodes']:,} nodes, {size['edges']:,} edges"
    )
    table.add_column("step")
    table.add_column("cold s (CPU s)", justify="right")
    table.add_column("warm s", justify="right")
    table.add_row("store.add_items (all batches)", f"{built['store_s']} ({built['store_cpu_s']})", "")
    table.add_row(
        "graph build (catch-up)",
        f"{built['graph_s']} ({built['graph_cpu_s']})",
        f"{built['graph_items_per_s']} items/s",
    )
    table.add_row("peak RSS after build (MB)", str(built["peak_rss_mb"]), "")
    table.add_row(
        f"pipeline + graph hook, {hooked['items']:,} more items",
        f"{hooked['wall_s']} ({hooked['cpu_s']})",
        f"{hooked['ms_per_batch']} ms / {HOOK_BATCH}",
    )
    table.add_row(
        f"  of which succession inference ({hooked['outlets_reconciled_per_batch']} outlets / batch)",
        f"{hooked['inference_ms_per_batch']} ms / batch",
        f"max {hooked['inference_max_ms']} ms",
    )
    for r in results:
        cold = str(r["cold_s"]) + (f" ({r['cold_cpu_s']})" if "cold_cpu_s" in r else "")
        table.add_row(r["analysis"], cold, "" if r["warm_s"] is None else str(r["warm_s"]))
    for r in guarded:
        table.add_row(
            f"guard: {r['request']}, min (median) before → after",
            f"{r['before_min_s']} → {r['after_min_s']}",
            f"+{r['added_min_ms']} ms" + (f" (+{r['added_median_ms']} ms)" if "added_median_ms" in r else ""),
        )
    if deltas:
        table.add_row(
            f"view after a batch of {HOOK_BATCH}: delta applied (median of {deltas['batches']})",
            str(deltas["median_delta_s"]),
            "",
        )
        table.add_row(
            "  same graph loaded whole (median)", str(deltas["median_full_s"]), f"{deltas['ratio']}×"
        )
    if baseline:
        table.add_row(
            f"export GEXF, writer of {baseline['rev']} (CPU s)",
            f"{baseline['before_s']} ({baseline['before_cpu_s']})",
            "",
        )
        table.add_row(
            "export GEXF, this writer (CPU s)",
            f"{baseline['after_s']} ({baseline['after_cpu_s']})",
            f"{baseline['ratio']}×, same bytes: {baseline['same_bytes']}",
        )
    err.print(table)
    if not built["complete"]:
        err.print(
            f"[yellow]stopped storing after {args.budget:.0f} s at {built['items_built']:,} of "
            f"{args.items:,} items; the rest ran on that graph[/]"
        )
    report = {"build": built, "graph": size, "hook": hooked, "analyses": results, "guard": guarded}
    json.dump({**report, "delta": deltas, "export_baseline": baseline}, sys.stdout, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
