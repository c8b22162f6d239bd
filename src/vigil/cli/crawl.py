"""``vigil crawl``: a polite crawl from a URL; every page goes through the pipeline; mirrors checked."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil import boot
from vigil.audit.log import append
from vigil.cli.common import RichProgress, err, load_config, open_store, print_json
from vigil.config import Config
from vigil.crawl.crawler import Crawler, CrawlSettings, CrawlSummary
from vigil.errors import UsageError, VigilError
from vigil.ingest.pipeline import Pipeline
from vigil.mirrors.check import MirrorLink, check_crawl
from vigil.net.client import FetchSettings
from vigil.net.guard import StaticResolver


def resolver_from(config: Config, hosts: list[str]) -> StaticResolver | None:
    """``--resolve HOST=IP`` pins names to addresses (like curl's --resolve); the guard still checks them."""
    table = {}
    for pair in hosts:
        host, sep, address = pair.partition("=")
        if not sep or not host or not address:
            raise UsageError(f"--resolve wants HOST=ADDRESS, got {pair!r}")
        table[host] = address
    return StaticResolver(table) if table else None


def crawl(
    url: Annotated[str, typer.Argument(help="Where to start (http or https).")],
    max_pages: Annotated[int, typer.Option("--max-pages", min=1, help="Pages to fetch at most.")] = 100,
    depth: Annotated[int, typer.Option("--depth", min=0, help="Links to follow from the start.")] = 2,
    same_site: Annotated[bool, typer.Option("--same-site", help="Stay on the start URL's site.")] = False,
    delay: Annotated[float, typer.Option(help="Seconds between requests to one host.")] = 1.0,
    concurrency: Annotated[int, typer.Option(min=1, help="Requests in flight per host.")] = 2,
    max_bytes: Annotated[int, typer.Option(help="Largest response kept, in bytes.")] = 10 * 1024**2,
    ignore_robots: Annotated[
        str | None, typer.Option("--ignore-robots", help="Do not honour robots.txt; the REASON is recorded.")
    ] = None,
    resolve: Annotated[
        list[str] | None, typer.Option("--resolve", help="HOST=ADDRESS, instead of DNS (repeatable).")
    ] = None,
    mirrors: Annotated[bool, typer.Option(help="Check the sites crawled against known outlets.")] = True,
    outlet: Annotated[
        str | None, typer.Option(help="The site crawled is this known outlet: keep its fingerprint.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Crawl from URL: robots.txt honoured, per-host limits, SSRF guard, out-links expanded."""
    if ignore_robots is not None and not ignore_robots.strip():
        raise UsageError("--ignore-robots needs a reason")
    config = load_config()
    settings = CrawlSettings(
        max_pages=max_pages,
        depth=depth,
        same_site=same_site,
        robots_override=ignore_robots,
        fetch=FetchSettings(
            max_bytes=max_bytes, timeout=config.http_timeout, concurrency=concurrency, delay=delay
        ),
    )
    with open_store(config) as store:
        detectors = boot.detectors(config, store)
        if ignore_robots:
            append(store, "cli", "crawl.robots_override", "url", url, {"reason": ignore_robots})
        with (
            boot.processor(config, store, detectors) as sink,
            RichProgress(total=max_pages, label="pages") as progress,
        ):
            crawler = Crawler(config, sink, settings, resolver_from(config, resolve or []), None, progress)
            summary = crawler.run([url])
        links = check_crawl(store, Pipeline(store, detectors), crawler, outlet) if mirrors or outlet else []
    out = {**summary.to_dict(), "mirrors": [link.to_dict() for link in links]}
    if as_json:
        print_json(out)
    else:
        _print_summary(summary, links)
    if summary.pages == 0:
        reason = summary.errors[0]["reason"] if summary.errors else "nothing in scope"
        raise VigilError(f"no page crawled: {reason}")


def _print_summary(summary: CrawlSummary, links: list[MirrorLink]) -> None:
    err.print(
        f"[bold]{summary.pages}[/] pages ([green]{summary.new_items} new[/]), {summary.media} media, "
        f"{summary.expanded} short links expanded, "
        f"[yellow]{summary.robots_excluded} excluded by robots.txt[/], "
        f"[red]{summary.refused} refused[/], {summary.cases} cases"
    )
    for link in links:
        err.print(f"  [red]probable mirror[/] {link.domain} of {link.outlet} ({link.outlet_domain})")
    for e in summary.errors[:20]:
        err.print(f"  [yellow]{e['url']}[/]: {e['reason']}")


def register(app: typer.Typer) -> None:
    app.command()(crawl)
