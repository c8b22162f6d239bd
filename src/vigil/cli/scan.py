"""``vigil scan`` and ``vigil demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil import boot
from vigil.cli.common import RichProgress, err, load_config, open_store, print_json
from vigil.ingest.scan import Scanner, ScanSummary


def _print_summary(summary: ScanSummary) -> None:
    err.print(
        f"[bold]{summary.items}[/] items ([green]{summary.new_items} new[/]), "
        f"[yellow]{summary.quarantined} quarantined[/], [red]{summary.detections} detections[/], "
        f"{summary.cases} cases opened"
    )
    if summary.media_fetched or summary.media_cached or summary.media_failed:
        err.print(
            f"media by URL: {summary.media_fetched} fetched, {summary.media_cached} already fetched, "
            f"[yellow]{summary.media_failed} failed[/]"
        )
    elif summary.media_not_fetched:
        err.print(f"{summary.media_not_fetched} media URLs not fetched (--fetch-media fetches them)")
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
    executor: Annotated[
        str,
        typer.Option(
            help="local (in-process) or ray (RAY_ADDRESS, or a local Ray). With queue_url set, items are "
            "published to the queue and `vigil worker` detects."
        ),
    ] = "local",
    fetch_media: Annotated[
        bool | None,
        typer.Option(
            "--fetch-media/--no-fetch-media",
            help="Fetch the images and videos that posts reference by URL (X media, feed enclosures) "
            "for hash matching. Default: the config's fetch_media (off).",
        ),
    ] = None,
) -> None:
    """Ingest a file, folder or URL: store new items, run the detectors, open cases for hits."""
    config = load_config()
    with open_store(config) as store:
        detectors = boot.detectors(config, store)
        with boot.processor(config, store, detectors, executor) as pipeline, RichProgress() as progress:
            scanner = Scanner(config, store, detectors, pipeline, fetch_media=fetch_media)
            summary = scanner.scan(target, fmt, progress)
    if as_json:
        print_json(summary.to_dict())
    else:
        _print_summary(summary)


def demo(
    folder: Annotated[Path | None, typer.Option(help="Where to write the demo corpus.")] = None,
) -> None:
    """Build a small self-made corpus in every supported format, scan it, and say what to look at."""
    from vigil.ingest.demo import build_demo_corpus

    config = load_config()
    target = folder or config.home / "demo-corpus"
    build_demo_corpus(target, config)
    err.print(f"demo corpus written to [bold]{target}[/]")
    with open_store(config) as store:
        scanner = Scanner(config, store, boot.detectors(config, store))
        with RichProgress() as progress:
            summary = scanner.scan(str(target), None, progress)
        _print_summary(summary)
        cases = store.list_cases(limit=5)
    err.print(f"\nstore: {config.resolved_database_url}")
    for case in cases:
        err.print(f"  case {case.id} ({case.state}) score {case.score:.2f}: {case.title}")
    from vigil.ingest.demo import GUIDE

    err.print("\n" + GUIDE.format(watchlist=config.resolved_watchlist, media=config.media_dir, corpus=target))


def register(app: typer.Typer) -> None:
    app.command()(scan)
    app.command()(demo)
