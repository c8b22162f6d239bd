"""Each URL once per crawl (issue 16, finding 9): a page reached by a link and by a redirect (or a short
link, or a chain of redirects) is requested once, because every redirect hop is checked against what the
crawl has fetched or queued before it is requested. Counted by a local server, request by request."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.media_helpers import drawn
from tests.webserver import LocalWeb, Reply, html, not_found, redirect, serve
from vigil.boot import open_store
from vigil.config import Config
from vigil.crawl.crawler import Crawler, CrawlSettings
from vigil.ingest.pipeline import Pipeline
from vigil.net.client import FetchSettings
from vigil.net.guard import StaticResolver
from vigil.store import Store

IMAGE = drawn(3)


def crawler(config: Config, store: Store, hosts: list[str], workers: int = 8) -> Crawler:
    return Crawler(
        config,
        Pipeline(store, []),
        CrawlSettings(
            max_pages=1000,
            depth=100,
            workers=workers,
            fetch=FetchSettings(delay=0.0, concurrency=4, timeout=10),
        ),
        StaticResolver(dict.fromkeys(hosts, "127.0.0.1")),
    )


def test_a_page_reached_by_links_and_redirects_is_fetched_once(home: Path) -> None:
    """/target is linked, redirected to by /moved and by a chain, and is the end of a short link; the image
    on it is also the end of a redirected image URL. Each is requested once."""
    config = Config.load(home, allow_private_addresses=True)
    store = open_store(config)
    routes: dict[str, object] = {}

    def make(web: LocalWeb) -> object:
        def route(host: str, path: str, headers: dict[str, str]) -> Reply:
            if path == "/robots.txt":
                return not_found()
            if host == "bit.ly" and path == "/x":
                return redirect(web.url("site.test", "/target"), 301)
            if host != "site.test":
                return not_found()
            if path == "/":
                links = ["/moved", "/target", web.url("bit.ly", "/x"), "/chain1", "/late"]
                return html('<img src="/img/a.png">' + " ".join(f'<a href="{h}">l</a>' for h in links))
            if path == "/moved":
                return redirect("/target", 301)
            if path == "/chain1":
                return redirect("/chain2")
            if path == "/chain2":
                return redirect(web.url("site.test", "/target"))
            if path == "/late":  # links a page the crawl reached through a redirect only
                return html('<a href="/only-by-redirect">x</a> <a href="/redirect-only">y</a>')
            if path == "/redirect-only":
                return redirect("/only-by-redirect")
            if path == "/target":
                return html('<img src="/img/old.png"><a href="/redirect-only">z</a><p>Placeholder.</p>')
            if path == "/only-by-redirect":
                return html("<p>Another placeholder.</p>")
            if path == "/img/a.png":
                return 200, {"Content-Type": "image/png"}, IMAGE
            if path == "/img/old.png":
                return redirect("/img/a.png")
            return not_found()

        return route

    with serve(lambda h, p, hd: routes["r"](h, p, hd)) as web:  # type: ignore[operator]
        routes["r"] = make(web)
        crawl = crawler(config, store, ["site.test", "bit.ly"], workers=1)
        summary = crawl.run([web.url("site.test")])
        requests = Counter((h, p) for h, p, _ in web.log)
    assert summary.errors == []
    twice = {k: n for k, n in requests.items() if n > 1}
    assert twice == {}, twice
    assert requests[("site.test", "/target")] == 1 and requests[("site.test", "/img/a.png")] == 1
    assert requests[("site.test", "/only-by-redirect")] == 1
    urls = {item.url for item in store.iter_items()}
    assert urls == {web.url("site.test", p) for p in ("/", "/target", "/only-by-redirect", "/late")}
    target = next(i for i in store.iter_items() if i.url == web.url("site.test", "/target"))
    assert [m.url for m in target.media] == [web.url("site.test", "/img/old.png")]  # the same bytes, kept
    assert summary.media == 1  # fetched once, for both URLs
    store.close()


# ---- the rule: over any site of links, redirect aliases and short links, no URL is requested twice and
# every page reachable is crawled -------------------------------------------------------------------------


@dataclass
class Site:
    """Pages /p/i; aliases /a/j redirecting to a page or an earlier alias; short links bit.ly/<n>/k to a
    page or an alias; each page's links."""

    number: int
    pages: int
    aliases: list[str]
    shorts: list[str]
    links: list[list[str]]
    host: str = field(init=False)

    def __post_init__(self) -> None:
        self.host = f"g{self.number}.test"

    def resolve(self, node: str) -> str:
        while not node.startswith("/p/"):
            kind, index = node.split("/")[1:]
            node = (self.aliases if kind == "a" else self.shorts)[int(index)]
        return node

    def reachable(self) -> set[str]:
        seen, todo = {"/p/0"}, ["/p/0"]
        while todo:
            page = todo.pop()
            for link in self.links[int(page.split("/")[2])]:
                target = self.resolve(link)
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen


@st.composite
def sites(draw: st.DrawFn) -> Site:
    pages = draw(st.integers(1, 7))
    page_paths = [f"/p/{i}" for i in range(pages)]
    aliases: list[str] = []
    for j in range(draw(st.integers(0, 5))):
        aliases.append(draw(st.sampled_from(page_paths + [f"/a/{k}" for k in range(j)])))
    alias_paths = [f"/a/{j}" for j in range(len(aliases))]
    shorts = draw(st.lists(st.sampled_from(page_paths + alias_paths), max_size=4))
    nodes = page_paths + alias_paths + [f"/s/{k}" for k in range(len(shorts))]
    links = [draw(st.lists(st.sampled_from(nodes), max_size=5)) for _ in range(pages)]
    return Site(next(NUMBERS), pages, aliases, shorts, links)


NUMBERS = itertools.count()


@dataclass
class Served:
    web: LocalWeb
    config: Config
    store: Store
    sites: dict[str, Site] = field(default_factory=dict)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    config = Config.load(tmp_path_factory.mktemp("home"), allow_private_addresses=True)
    store = open_store(config)
    state: dict[str, Served] = {}

    def route(host: str, path: str, headers: dict[str, str]) -> Reply:
        here = state["s"]
        if path == "/robots.txt":
            return not_found()
        if host == "bit.ly":
            _, number, index = path.split("/")
            site = here.sites[f"g{number}.test"]
            return redirect(here.web.url(site.host, site.shorts[int(index)]), 301)
        site = here.sites[host]
        if path.startswith("/a/"):
            return redirect(site.aliases[int(path[3:])])
        if path.startswith("/p/"):
            hrefs = [
                here.web.url("bit.ly", f"/{site.number}/{link[3:]}") if link.startswith("/s/") else link
                for link in site.links[int(path[3:])]
            ]
            return html(" ".join(f'<a href="{h}">link</a>' for h in hrefs) + f"<p>Placeholder {path}.</p>")
        return not_found()

    with serve(route) as web:
        state["s"] = Served(web, config, store)
        yield state["s"]
    store.close()


@settings(max_examples=40)
@given(site=sites())
def test_no_url_is_requested_twice_and_every_page_is_crawled(served: Served, site: Site) -> None:
    served.sites[site.host] = site
    start = len(served.web.log)
    crawl = crawler(served.config, served.store, [site.host, "bit.ly"])
    summary = crawl.run([served.web.url(site.host, "/p/0")])
    mine = [
        (h, p)
        for h, p, _ in served.web.log[start:]
        if h == site.host or (h == "bit.ly" and p.startswith(f"/{site.number}/"))
    ]
    twice = {k: n for k, n in Counter(mine).items() if n > 1}
    assert twice == {}, (twice, site)
    assert summary.errors == []
    crawled = {p for h, p in mine if h == site.host and p.startswith("/p/")}
    assert crawled == site.reachable() and summary.pages == len(crawled), site
