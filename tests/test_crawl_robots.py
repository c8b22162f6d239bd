"""robots.txt on out-link hops: file lockers, paste sites, short links and where they lead are asked for
their own robots.txt before each hop; the operator's override (with its reason) lets them through and is
recorded on every out-link fetched under it, and on a watched source it comes from the source."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from tests.webserver import LocalWeb, Reply, html, not_found, redirect, serve
from vigil.audit.log import entries
from vigil.config import Config
from vigil.crawl.crawler import Crawler, CrawlSettings
from vigil.ingest.pipeline import Pipeline
from vigil.net.client import FetchSettings
from vigil.net.guard import StaticResolver
from vigil.store import Store
from vigil.watch.registry import add_source, get_source, set_robots_override
from vigil.watch.runner import WatchRunner

HOSTS = ("site.test", "bit.ly", "tinyurl.com", "mediafire.com", "pastebin.com", "other.test")
DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"
LOCKER = b"%PDF-1.4 neutral placeholder\n" * 10
ROBOTS = {
    "site.test": b"User-agent: *\nDisallow: /private/\n",
    "mediafire.com": b"User-agent: *\nDisallow: /file/closed/\n",
    "pastebin.com": DISALLOW_ALL,
    "tinyurl.com": b"User-agent: *\nDisallow: /t/no\n",
    "other.test": b"User-agent: *\nDisallow: /hidden\n",
}


def route(web: LocalWeb) -> Any:
    def answer(host: str, path: str, headers: dict[str, str]) -> Reply:
        if path == "/robots.txt":
            found = ROBOTS.get(host)
            return (200, {"Content-Type": "text/plain"}, found) if found else not_found()
        if host == "site.test" and path == "/":
            links = [
                web.url("mediafire.com", "/file/open/a.pdf"),
                web.url("mediafire.com", "/file/closed/b.pdf"),
                web.url("pastebin.com", "/raw/p1"),
                web.url("bit.ly", "/s/ok"),  # -> tinyurl /t/ok -> other.test /page
                web.url("bit.ly", "/s/no"),  # -> tinyurl /t/no: excluded by tinyurl's robots.txt
                web.url("bit.ly", "/s/hidden"),  # -> other.test /hidden: excluded at the last hop
            ]
            return html(" ".join(f'<a href="{u}">x</a>' for u in links))
        if host == "mediafire.com" and path.startswith("/file/"):
            return 200, {"Content-Type": "application/pdf"}, LOCKER + path.encode()
        if host == "pastebin.com" and path == "/raw/p1":
            return 200, {"Content-Type": "text/plain"}, b"a neutral placeholder paste\n"
        if host == "bit.ly" and path == "/s/ok":
            return redirect(web.url("tinyurl.com", "/t/ok"))
        if host == "bit.ly" and path == "/s/no":
            return redirect(web.url("tinyurl.com", "/t/no"))
        if host == "bit.ly" and path == "/s/hidden":
            return redirect(web.url("other.test", "/hidden"))
        if host == "tinyurl.com" and path.startswith("/t/"):
            return redirect(web.url("other.test", "/page"))
        if host == "other.test" and path in ("/page", "/hidden"):
            return html("<p>neutral placeholder page</p>")
        return not_found()

    return answer


def crawl(config: Config, store: Store, web: LocalWeb, override: str | None) -> Crawler:
    crawler = Crawler(
        config,
        Pipeline(store, []),
        CrawlSettings(
            max_pages=20, depth=1, robots_override=override, fetch=FetchSettings(delay=0.0, timeout=10)
        ),
        StaticResolver(dict.fromkeys(HOSTS, "127.0.0.1")),
    )
    crawler.run([web.url("site.test")])
    return crawler


def home_outlinks(store: Store, web: LocalWeb) -> dict[str, dict[str, Any]]:
    (item,) = [i for i in store.iter_items() if i.url == web.url("site.test", "/")]
    return {o["url"]: o for o in item.meta["outlinks"]}


def test_outlink_hops_honour_their_robots_txt(home: Path, store: Store) -> None:
    config = Config.load(home, allow_private_addresses=True)
    routes: dict[str, Any] = {}
    with serve(lambda h, p, hd: routes["r"](h, p, hd)) as web:
        routes["r"] = route(web)
        crawler = crawl(config, store, web, None)
        outlinks = home_outlinks(store, web)
        asked = Counter((h, p) for h, p, _ in web.log)
    # excluded hops were never requested
    assert asked[("mediafire.com", "/file/closed/b.pdf")] == 0
    assert asked[("pastebin.com", "/raw/p1")] == 0
    assert asked[("tinyurl.com", "/t/no")] == 0
    assert asked[("other.test", "/hidden")] == 0
    # allowed ones were, and each host's robots.txt once
    assert asked[("mediafire.com", "/file/open/a.pdf")] == 1
    assert asked[("other.test", "/page")] == 1
    assert {h for (h, p), n in asked.items() if p == "/robots.txt" and n == 1} == set(HOSTS)
    # what the page records of each out-link
    open_pdf = outlinks[web.url("mediafire.com", "/file/open/a.pdf")]
    assert open_pdf["sha256"] and "robots" not in open_pdf
    for url in (
        web.url("mediafire.com", "/file/closed/b.pdf"),
        web.url("pastebin.com", "/raw/p1"),
        web.url("bit.ly", "/s/no"),
        web.url("bit.ly", "/s/hidden"),
    ):
        assert outlinks[url]["robots"] == "excluded", url
    assert outlinks[web.url("bit.ly", "/s/no")]["error"].startswith("excluded by robots.txt")
    assert outlinks[web.url("bit.ly", "/s/ok")]["final"] == web.url("other.test", "/page")
    assert crawler.summary.robots_excluded == 4 and crawler.summary.media == 1


def test_override_lets_hops_through_and_is_recorded_on_each(home: Path, store: Store) -> None:
    config = Config.load(home, allow_private_addresses=True)
    reason = "placeholder reason: court order 1/2026"
    routes: dict[str, Any] = {}
    with serve(lambda h, p, hd: routes["r"](h, p, hd)) as web:
        routes["r"] = route(web)
        crawler = crawl(config, store, web, reason)
        outlinks = home_outlinks(store, web)
        asked = Counter((h, p) for h, p, _ in web.log)
    assert not [k for k in asked if k[1] == "/robots.txt"]
    assert asked[("mediafire.com", "/file/closed/b.pdf")] == 1 and asked[("pastebin.com", "/raw/p1")] == 1
    assert asked[("tinyurl.com", "/t/no")] == 1 and asked[("other.test", "/hidden")] == 1
    assert len(outlinks) == 6
    assert all(o["robots_override"] == reason and "robots" not in o for o in outlinks.values())
    assert crawler.summary.robots_excluded == 0 and crawler.summary.media == 3
    assert crawler.summary.robots_override == reason


def test_watched_site_override_is_per_source_and_audited(home: Path, store: Store) -> None:
    config = Config.load(home, allow_private_addresses=True)
    routes: dict[str, Any] = {}
    with serve(lambda h, p, hd: routes["r"](h, p, hd)) as web:
        routes["r"] = route(web)
        add_source(store, "site", "site", web.url("site.test"), options={"delay": 0, "depth": 0})
        set_robots_override(store, "site", "placeholder reason for the test", actor="ops")
        overridden = get_source(store, "site")
        runner = WatchRunner(config, store, [], resolver=StaticResolver(dict.fromkeys(HOSTS, "127.0.0.1")))
        (first,) = runner.run_due()
        set_robots_override(store, "site", None, actor="ops")
        honoured = get_source(store, "site")
        asked = Counter((h, p) for h, p, _ in web.log)
    assert first.ok and overridden is not None and honoured is not None
    assert overridden.robots_override == "placeholder reason for the test"
    assert honoured.robots_override is None
    assert asked[("pastebin.com", "/raw/p1")] == 1 and not [k for k in asked if k[1] == "/robots.txt"]
    actions = [(e.action, e.actor, e.details.get("reason")) for e in entries(store, 10, 0)]
    assert ("watch.robots_override", "ops", "placeholder reason for the test") in actions
    assert ("watch.robots_honour", "ops", None) in actions


def test_cli_robots_needs_one_choice_and_a_reason(home: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "VIGIL_HOME": str(home)}
    env.pop("VIGIL_DATABASE_URL", None)

    def vigil(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "vigil", "watch", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    assert vigil("add", "site", "http://site.test/", "--name", "s").returncode == 0
    neither = vigil("robots", "s")
    blank = vigil("robots", "s", "--ignore", "  ")
    unknown = vigil("robots", "nope", "--honour")
    done = vigil("robots", "s", "--ignore", "placeholder reason")
    listed = [json.loads(line) for line in vigil("list").stdout.splitlines()]
    assert neither.returncode == 2 and "--ignore REASON or --honour" in neither.stderr
    assert blank.returncode == 2 and "needs a reason" in blank.stderr
    assert unknown.returncode == 2 and "no watched source named 'nope'" in unknown.stderr
    assert done.returncode == 0 and listed[0]["robots_override"] == "placeholder reason"
