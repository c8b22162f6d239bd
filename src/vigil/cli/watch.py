"""``vigil watch``: register sources with a schedule, run due sources once or continuously, see health."""

from __future__ import annotations

import json
import signal
import threading
from typing import Annotated, Any

import typer

from vigil import boot
from vigil.cli.common import err, load_config, open_store, print_json
from vigil.cli.crawl import resolver_from
from vigil.errors import UsageError
from vigil.watch.health import source_health
from vigil.watch.lease import DEFAULT_LEASE_S
from vigil.watch.registry import (
    DEFAULT_INTERVAL_S,
    add_source,
    list_sources,
    remove_source,
    set_enabled,
    set_robots_override,
)
from vigil.watch.runner import RunResult, WatchRunner

watch_app = typer.Typer(help="Watch sources on a schedule.", no_args_is_help=True)


@watch_app.command("add")
def add(
    kind: Annotated[str, typer.Argument(help="site, feed, folder (a channel export) or mailbox.")],
    target: Annotated[str, typer.Argument(help="URL, file or folder.")],
    name: Annotated[str | None, typer.Option(help="A unique name (default: the target).")] = None,
    interval: Annotated[float, typer.Option(help="Seconds between checks.")] = DEFAULT_INTERVAL_S,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="Force a source format.")] = None,
    ignore_robots: Annotated[
        str | None, typer.Option("--ignore-robots", help="Sites: do not honour robots.txt, for this REASON.")
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", help="KEY=VALUE for sites: max_pages, depth, delay, same_site."),
    ] = None,
) -> None:
    """Register a source."""
    options: dict[str, Any] = {}
    for pair in option or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"--option wants KEY=VALUE, got {pair!r}")
        try:
            options[key] = json.loads(value)
        except ValueError:
            options[key] = value
    config = load_config()
    with open_store(config) as store:
        found = add_source(
            store,
            name or target,
            kind,
            target,
            fmt=fmt,
            interval_s=interval,
            options=options,
            robots_override=ignore_robots,
        )
    print_json(found.to_dict())


@watch_app.command("list")
def list_(
    health: Annotated[bool, typer.Option(help="Failing sources first.")] = False,
) -> None:
    """Every watched source with its schedule and health, as JSON lines."""
    config = load_config()
    with open_store(config) as store:
        rows = source_health(store) if health else [s.to_dict() for s in list_sources(store)]
    for row in rows:
        print_json(row)


@watch_app.command("remove")
def remove(name: str) -> None:
    """Stop watching a source."""
    config = load_config()
    with open_store(config) as store:
        remove_source(store, name)


@watch_app.command("enable")
def enable(name: str) -> None:
    config = load_config()
    with open_store(config) as store:
        set_enabled(store, name, True)


@watch_app.command("disable")
def disable(name: str) -> None:
    config = load_config()
    with open_store(config) as store:
        set_enabled(store, name, False)


@watch_app.command("robots")
def robots(
    name: str,
    ignore: Annotated[
        str | None, typer.Option("--ignore", help="Do not honour robots.txt for this source, for REASON.")
    ] = None,
    honour: Annotated[bool, typer.Option("--honour", help="Honour robots.txt again.")] = False,
) -> None:
    """Override robots.txt for one source (pages and out-link hops) with a recorded reason, or undo it."""
    if (ignore is None) == (not honour):
        raise UsageError("give either --ignore REASON or --honour")
    config = load_config()
    with open_store(config) as store:
        set_robots_override(store, name, ignore if ignore is not None else None)


def _report(result: RunResult) -> None:
    print_json(result.to_dict())
    if not result.ok:
        err.print(f"[red]{result.source}[/]: {result.error} (retry in {result.retry_in_s:.0f}s)")


_RESOLVE = typer.Option("--resolve", help="HOST=ADDRESS instead of DNS (repeatable).")
_LEASE = typer.Option(
    "--lease",
    help="Seconds a source stays leased to this process without renewal (a crashed one's lease ends then).",
)


@watch_app.command("run")
def run(
    resolve: Annotated[list[str] | None, _RESOLVE] = None,
    lease: Annotated[float, _LEASE] = DEFAULT_LEASE_S,
) -> None:
    """One pass over the sources that are due (and not leased to another process)."""
    config = load_config()
    with open_store(config) as store:
        detectors = boot.detectors(config, store)
        with boot.processor(config, store, detectors) as sink:
            runner = WatchRunner(
                config, store, detectors, sink, resolver_from(config, resolve or []), lease_s=lease
            )
            results = runner.run_due()
    for result in results:
        _report(result)
    if not results:
        err.print("nothing due")


@watch_app.command("serve")
def serve(
    poll: Annotated[float, typer.Option(help="Longest sleep between looks at the schedule.")] = 5.0,
    resolve: Annotated[list[str] | None, _RESOLVE] = None,
    lease: Annotated[float, _LEASE] = DEFAULT_LEASE_S,
) -> None:
    """Run until stopped (SIGTERM or SIGINT end it after the source in progress, leases released). Several
    processes, on one machine or many, may serve one store: each source is leased to one at a time."""
    config = load_config()
    stop = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        err.print(f"signal {signum}: stopping after the current source")
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with open_store(config) as store:
        detectors = boot.detectors(config, store)
        with boot.processor(config, store, detectors) as sink:
            runner = WatchRunner(
                config, store, detectors, sink, resolver_from(config, resolve or []), lease_s=lease
            )
            err.print(f"watching as {runner.owner}; stop with Ctrl-C or SIGTERM")
            runs = runner.serve(stop, poll_s=poll, on_result=_report)
    err.print(f"stopped after {runs} source runs")


def register(app: typer.Typer) -> None:
    app.add_typer(watch_app, name="watch")
