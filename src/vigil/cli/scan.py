"""``vigil scan`` and ``vigil demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import RichProgress, err, load_config, open_store, print_json
from vigil.core.scan import Scanner, ScanSummary
from vigil.detect import load_detectors


def _print_summary(summary: ScanSummary) -> None:
    err.print(
        f"[bold]{summary.items}[/] items ([green]{summary.new_items} new[/]), "
        f"[yellow]{summary.quarantined} quarantined[/], [red]{summary.detections} detections[/], "
        f"{summary.cases} cases opened"
    )
    for e in summary.errors[:20]:
        err.print(f"  [yellow]{e['source']}[/] {e['location']}: {e['reason']}")
    if len(summary.errors) > 20:
        err.print(f"  ... and {len(summary.errors) - 20} more (use --json for all)")


def scan(
    target: Annotated[str, typer.Argument(help="A file, a folder, or an http(s) URL (e.g. a feed).")],
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="Force a source format instead of sniffing.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary object on stdout.")] = False,
) -> None:
    """Ingest a file, folder or URL: store new items, run the detectors, open cases for hits."""
    config = load_config()
    with open_store(config) as store:
        scanner = Scanner(config, store, load_detectors(config))
        with RichProgress() as progress:
            summary = scanner.scan(target, fmt, progress)
    if as_json:
        print_json(summary.to_dict())
    else:
        _print_summary(summary)


def demo(
    folder: Annotated[Path | None, typer.Option(help="Where to write the demo corpus.")] = None,
) -> None:
    """Build a small self-made corpus in every supported format, scan it, and say what to look at."""
    from vigil.demo import build_demo_corpus

    config = load_config()
    target = folder or config.home / "demo-corpus"
    build_demo_corpus(target, config)
    err.print(f"demo corpus written to [bold]{target}[/]")
    with open_store(config) as store:
        scanner = Scanner(config, store, load_detectors(config))
        with RichProgress() as progress:
            summary = scanner.scan(str(target), None, progress)
        _print_summary(summary)
        cases = store.list_cases(limit=5)
    err.print(f"\nstore: {config.resolved_database_url}")
    for case in cases:
        err.print(f"  case {case.id} ({case.state}) score {case.score:.2f}: {case.title}")
    from vigil.demo import GUIDE

    err.print("\n" + GUIDE.format(watchlist=config.resolved_watchlist, media=config.media_dir, corpus=target))


def register(app: typer.Typer) -> None:
    app.command()(scan)
    app.command()(demo)
