"""``vigil graph``: build, query and export the actor / outlet / infrastructure graph.

Machine-readable output is JSON Lines on stdout. Query commands first fold any stored items not yet
graphed into the graph (incremental; ``--no-update`` skips it). Whole-graph analyses run in the main
thread (``vigil.graph.isolation.InProcess``), where a library's error is an exception: the command fails
with one line and exit status 1, never an abort.
"""

from __future__ import annotations

import getpass
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import RichProgress, err, load_config, open_store, print_json
from vigil.config import Config
from vigil.errors import UsageError
from vigil.graph.pseudonym import AccountKeys
from vigil.privacy.pseudonym import Pseudonymiser
from vigil.store import Store

graph_app = typer.Typer(
    help="The network graph: outlets, accounts, domains, infrastructure.", no_args_is_help=True
)
outlet_app = typer.Typer(
    help="Define outlets and their channels, domains and successions.", no_args_is_help=True
)
graph_app.add_typer(outlet_app, name="outlet")

NoUpdate = Annotated[bool, typer.Option("--no-update", help="Do not graph pending items first.")]
Top = Annotated[int, typer.Option("--top", min=1, max=10_000, help="How many to list.")]


def _refresh(config: Config, store: Store, skip: bool) -> None:
    if skip:
        return
    from vigil.graph.update import catch_up, pending

    waiting = pending(store)
    if not waiting:
        return
    with RichProgress(total=waiting, label="items") as progress:
        progress.task("graphing new items")
        result = catch_up(store, _fallback(config, store), progress=progress)
    err.print(f"graphed {result.items} new items")


def _parse_time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(f"--{name}: not an ISO 8601 date/time: {value!r}") from exc


@graph_app.command()
def update() -> None:
    """Graph every stored item not yet graphed (from the watermark on) and print what changed."""
    config = load_config()
    with open_store(config) as store:
        from vigil.graph.update import catch_up, pending

        with RichProgress(total=pending(store), label="items") as progress:
            progress.task("graphing items")
            result = catch_up(store, _fallback(config, store), progress=progress)
    print_json(result.to_dict())


@graph_app.command()
def stats(no_update: NoUpdate = False) -> None:
    """Nodes and edges by kind, items graphed and waiting."""
    from vigil.graph.stats import stats as compute

    config = load_config()
    with open_store(config) as store:
        _refresh(config, store, no_update)
        print_json(compute(store))


@graph_app.command()
def actors(
    outlet: Annotated[str | None, typer.Option(help="Rank this outlet's likely administrators.")] = None,
    top: Top = 20,
    kind: Annotated[
        list[str] | None, typer.Option(help="Node kinds for key actors (default account).")
    ] = None,
    no_update: NoUpdate = False,
) -> None:
    """Likely administrators of an outlet (--outlet), or key actors of the whole graph by centrality."""
    config = load_config()
    with open_store(config) as store:
        _refresh(config, store, no_update)
        if outlet:
            from vigil.graph.admins import administrators

            rows = administrators(store, outlet, top)
        else:
            from vigil.graph.isolation import InProcess

            rows = InProcess(store).run("key_actors", top, tuple(kind or ("account",)))
    for row in rows:
        print_json(row)
    if not rows:
        err.print("no actors found")


@graph_app.command()
def spreaders(top: Top = 20, no_update: NoUpdate = False) -> None:
    """Accounts that forward many outlets' releases, quickly."""
    from vigil.graph.spreaders import spreaders as compute

    config = load_config()
    with open_store(config) as store:
        _refresh(config, store, no_update)
        for row in compute(store, top):
            print_json(row)


@graph_app.command()
def lineage(
    outlet: Annotated[str, typer.Option(help="The outlet's name.")],
    no_update: NoUpdate = False,
) -> None:
    """The outlet's domains in order: which replaced which, and when."""
    from vigil.graph.lineage import lineage as compute

    config = load_config()
    with open_store(config) as store:
        _refresh(config, store, no_update)
        for row in compute(store, outlet):
            print_json(row)


@graph_app.command()
def communities(
    method: Annotated[str, typer.Option(help="leiden (any size) or louvain (small graphs).")] = "leiden",
    top: Top = 20,
    no_update: NoUpdate = False,
) -> None:
    """Communities, largest first, with their most connected members."""
    from vigil.graph.isolation import InProcess

    config = load_config()
    with open_store(config) as store:
        _refresh(config, store, no_update)
        print_json(InProcess(store).run("communities", method, top))


def _fallback(config: Config, store: Store) -> Pseudonymiser | None:
    """The graph's own pseudonymiser, needed only by a store without an identity guard."""
    return None if store.identities is not None else Pseudonymiser.for_home(config.home)


def _node_ref(config: Config, store: Store, node: str | None, account: str | None) -> str:
    """The node to look up: ``--account`` (clear or pseudonymised ``platform:id``) becomes its node key."""
    if account:
        if ":" not in account:
            raise UsageError(f"--account {account!r}: expected platform:id, e.g. telegram:1234")
        return AccountKeys.for_store(store, _fallback(config, store)).node_key(account.strip())
    if not node:
        raise UsageError("give a node key or id, or --account platform:id")
    return node


@graph_app.command()
def ego(
    node: Annotated[str | None, typer.Argument(help="Node key (e.g. domain:example.org) or id.")] = None,
    account: Annotated[
        str | None,
        typer.Option(help="An account key platform:id, clear or pseudonymised (looked up by pseudonym)."),
    ] = None,
    radius: Annotated[int, typer.Option(min=1, max=3)] = 1,
    limit: Annotated[int, typer.Option(min=1, max=5000)] = 300,
    since: Annotated[str | None, typer.Option(help="Only edges seen since (ISO date).")] = None,
    until: Annotated[str | None, typer.Option(help="Only edges seen until (ISO date).")] = None,
    no_update: NoUpdate = False,
) -> None:
    """A node's neighbourhood with the evidence on each edge (one JSON object)."""
    from vigil.graph.paths import ego as compute

    config = load_config()
    if not (node or account):
        raise UsageError("give a node key or id, or --account platform:id")
    with open_store(config) as store:
        _refresh(config, store, no_update)
        ref = _node_ref(config, store, node, account)
        print_json(
            compute(
                store,
                ref,
                radius,
                limit,
                since=_parse_time(since, "since"),
                until=_parse_time(until, "until"),
            )
        )


@graph_app.command()
def path(
    source: Annotated[str, typer.Argument(help="Node key or id.")],
    target: Annotated[str, typer.Argument(help="Node key or id.")],
    no_update: NoUpdate = False,
) -> None:
    """The shortest path between two nodes, with the evidence on each edge (one JSON object)."""
    from vigil.graph.isolation import InProcess
    from vigil.graph.view import resolve_node

    config = load_config()
    with open_store(config) as store:
        _refresh(config, store, no_update)
        first, second = resolve_node(store, source), resolve_node(store, target)
        print_json(InProcess(store).run("path", first, second))


@graph_app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="gexf, graphml or json.")] = "gexf",
    out: Annotated[Path | None, typer.Option(help="File to write (default: stdout).")] = None,
    node_kind: Annotated[list[str] | None, typer.Option(help="Only these node kinds.")] = None,
    edge_kind: Annotated[list[str] | None, typer.Option(help="Only these edge kinds.")] = None,
    no_update: NoUpdate = False,
) -> None:
    """Export the graph for Gephi and other tools (streamed). The export is recorded in the audit log."""
    from vigil.audit.log import append
    from vigil.graph.export import check_format, export_file, write_export

    check_format(fmt)
    filters = {"node_kinds": tuple(node_kind or ()), "edge_kinds": tuple(edge_kind or ())}
    config = load_config()
    with open_store(config) as store:
        _refresh(config, store, no_update)
        if out is not None:
            summary = export_file(store, fmt, out, **filters)
            err.print(f"wrote {summary['nodes']} nodes, {summary['edges']} edges to {out}")
        else:
            summary = {**write_export(store, fmt, sys.stdout.buffer, **filters), "path": "-"}
            sys.stdout.buffer.flush()
        append(store, f"cli:{getpass.getuser()}", "graph.export", "graph", fmt, summary)
    if out is not None:
        print_json(summary)


@outlet_app.command("add")
def outlet_add(
    name: Annotated[str, typer.Argument(help="The outlet's name.")],
    channel: Annotated[list[str] | None, typer.Option(help="A channel key platform:id it owns.")] = None,
    domain: Annotated[list[str] | None, typer.Option(help="A domain it publishes on.")] = None,
) -> None:
    """Define an outlet (or add channels and domains to it)."""
    from vigil.graph.outlets import register_outlet

    config = load_config()
    with open_store(config) as store:
        print_json(register_outlet(store, name, channel or [], domain or []))


@outlet_app.command("succession")
def outlet_succession(
    name: Annotated[str, typer.Argument(help="The outlet's name.")],
    old: Annotated[str, typer.Argument(help="The domain that was removed.")],
    new: Annotated[str, typer.Argument(help="The domain that replaced it.")],
    at: Annotated[str | None, typer.Option(help="When (ISO date).")] = None,
) -> None:
    """Record that NEW replaced OLD for the outlet (e.g. after a takedown)."""
    from vigil.graph.outlets import record_succession

    config = load_config()
    with open_store(config) as store:
        record_succession(store, name, old, new, _parse_time(at, "at"))
    print_json({"outlet": name, "old": old, "new": new, "at": at})


@graph_app.command("outlets")
def outlets_list() -> None:
    """The outlets in the graph with their own venues and mirrors."""
    from vigil.graph.outlets import list_outlets

    config = load_config()
    with open_store(config) as store:
        for row in list_outlets(store):
            print_json(row)


def register(app: typer.Typer) -> None:
    app.add_typer(graph_app, name="graph")
