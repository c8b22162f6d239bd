"""The crawler against a 500-page local site: robots.txt, redirects, a two-hop short link, a file locker
and a paste site, and the SSRF guard. Host names point at 127.0.0.1 through a StaticResolver: the real
client, guard and transport run; only the far end is local."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.webserver import LocalWeb, Reply, html, not_found, redirect, serve
from vigil.boot import open_store
from vigil.config import Config
from vigil.crawl.crawler import Crawler, CrawlSettings
from vigil.ingest.pipeline import Pipeline
from vigil.net.client import FetchSettings
from vigil.net.guard import StaticResolver, refusal
from vigil.store import Store
from vigil.store.schema import items

N = 500
HOSTS = ("site.test", "bit.ly", "tinyurl.com", "mediafire.com", "pastebin.com")
LOCKER_BYTES = b"%PDF-1.4 neutral placeholder document\n" * 20
PASTE_BYTES = b"a neutral placeholder paste\n"
LOGO = b"\x89PNG\r\n\x1a\n" + b"logo" * 50


def child_link(web: LocalWeb, j: int) -> str:
    if j % 20 == 7:  # two-hop short link: bit.ly -> tinyurl.com -> the page
        return web.url("bit.ly", f"/s/{j}")
    if j % 10 == 3:  # an old address that redirects
        return f"/old/{j}"
    return f"/p/{j}"


def site_route(web: LocalWeb) -> object:
    def route(host: str, path: str, headers: dict[str, str]) -> Reply:
        if host == "bit.ly" and path.startswith("/s/"):
            return redirect(web.url("tinyurl.com", "/t/" + path[3:]), 301)
        if host == "tinyurl.com" and path.startswith("/t/"):
            return redirect(web.url("site.test", "/p/" + path[3:]))
        if host == "mediafire.com" and path == "/file/report.pdf":
            return 200, {"Content-Type": "application/pdf"}, LOCKER_BYTES
        if host == "pastebin.com" and path == "/raw/abc":
            return 200, {"Content-Type": "text/plain"}, PASTE_BYTES
        if host != "site.test":
            return not_found()
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"
        if path == "/static/logo.png":
            return 200, {"Content-Type": "image/png"}, LOGO
        if path == "/":
            return html('<a href="/p/0">start</a> <a href="/old/3">old</a> <a href="/p/3">three</a>')
        if m := re.fullmatch(r"/old/(\d+)", path):
            return redirect(f"/p/{m.group(1)}", 301)
        if m := re.fullmatch(r"/(p|private)/(\d+)", path):
            i = int(m.group(2))
            links = [child_link(web, j) for j in (2 * i + 1, 2 * i + 2) if j < N]
            extra = [f"/private/{i}", f"/p/{i}#top"]
            if i == 10:
                extra += [web.url("mediafire.com", "/file/report.pdf"), web.url("pastebin.com", "/raw/abc")]
            anchors = " ".join(f'<a href="{h}">link</a>' for h in links + extra)
            return html(
                f"<h1>Page {i}</h1><p>Neutral placeholder text number {i} about weather and gardens.</p>"
                f'<img src="/static/logo.png"> {anchors}',
                f"<title>Page {i}</title>",
            )
        return not_found()

    return route


def crawl(config: Config, store: Store, web: LocalWeb, **settings: object) -> Crawler:
    crawler = Crawler(
        config,
        Pipeline(store, []),
        CrawlSettings(fetch=FetchSettings(delay=0.0, concurrency=4, timeout=10), **settings),  # type: ignore[arg-type]
        StaticResolver(dict.fromkeys(HOSTS, "127.0.0.1")),
    )
    crawler.run([web.url("site.test")])
    return crawler


def test_crawl_500_pages(home: Path) -> None:
    """On SQLite only: the crawler is under test here; the store contract runs on both elsewhere."""
    config = Config.load(home, allow_private_addresses=True)
    store = open_store(config)
    routes: dict[str, object] = {}
    with serve(lambda h, p, hd: routes["r"](h, p, hd)) as web:  # type: ignore[operator]
        routes["r"] = site_route(web)
        crawler = crawl(config, store, web, max_pages=2000, depth=15, same_site=True)
        fetched = Counter(web.paths("site.test"))
        log = list(web.log)
        again = crawl(config, store, web, max_pages=30, depth=3, same_site=True)
    summary = crawler.summary
    with store.read() as conn:
        urls = [u for (u,) in conn.execute(items.select().with_only_columns(items.c.url))]
    expected = {web.url("site.test", "/")} | {web.url("site.test", f"/p/{i}") for i in range(N)}
    assert len(urls) == len(set(urls)) == N + 1, summary.errors[:5]
    assert set(urls) == expected
    assert summary.pages == N + 1 and summary.new_items == N + 1
    assert again.summary.pages > 10 and again.summary.new_items == 0  # a second crawl adds nothing
    # robots.txt: the excluded pages were never requested
    assert not [p for p in fetched if p.startswith("/private/")]
    assert summary.robots_excluded > 0
    # each page fetched once, /p/3 too (linked directly and through /old/3: the redirect hop is checked
    # against the pages queued, issue 16 finding 9)
    assert {p: c for p, c in fetched.items() if p.startswith("/p/") and c > 1} == {}
    assert fetched["/p/3"] == 1 and fetched["/old/3"] == 1
    assert fetched["/robots.txt"] == 1 and fetched["/static/logo.png"] == 1
    # a redirected page keeps its chain
    item13 = store.get_item(next(i for i in crawler_ids(store) if i[1].endswith("/p/13"))[0])
    assert item13 is not None
    assert item13.meta["redirects"] == [
        {"url": web.url("site.test", "/old/13"), "status": 301, "location": web.url("site.test", "/p/13")}
    ]
    # the two-hop short link was followed to the end, the chain recorded on the linking page and on the
    # page it led to (ingested from that same response: /p/7 was requested once)
    parent = store.get_item(next(i for i in crawler_ids(store) if i[1].endswith("/p/3"))[0])
    seven = store.get_item(next(i for i in crawler_ids(store) if i[1].endswith("/p/7"))[0])
    assert parent is not None and seven is not None
    short = [o for o in parent.meta["outlinks"] if o["kind"] == "shortener"]
    assert short[0]["final"] == web.url("site.test", "/p/7")
    chain = [web.url("bit.ly", "/s/7"), web.url("tinyurl.com", "/t/7")]
    assert [h["url"] for h in short[0]["chain"]] == chain
    assert [h["url"] for h in seven.meta["redirects"]] == chain
    assert seven.meta["requested_url"] == chain[0]
    # robots.txt is asked of every out-link host too, once each (404 here: everything allowed)
    robots = Counter(h for h, p, _ in log if p == "/robots.txt")
    assert robots == dict.fromkeys(HOSTS, 1)
    # locker and paste links fetched as media of the linking page; the logo once for all pages
    page10 = store.get_item(next(i for i in crawler_ids(store) if i[1].endswith("/p/10"))[0])
    assert page10 is not None
    names = {m.url: m for m in page10.media}
    locker = names[web.url("mediafire.com", "/file/report.pdf")]
    assert locker.mime == "application/pdf" and locker.size == len(LOCKER_BYTES)
    assert (
        config.media_dir / locker.sha256[:2] / locker.sha256[2:4] / locker.sha256
    ).read_bytes() == LOCKER_BYTES
    assert names[web.url("pastebin.com", "/raw/abc")].kind == "document"
    assert summary.media == 3
    assert "Neutral placeholder text number 10" in page10.text
    store.close()


def crawler_ids(store: Store) -> list[tuple[str, str]]:
    with store.read() as conn:
        return [(r[0], r[1]) for r in conn.execute(items.select().with_only_columns(items.c.id, items.c.url))]


def test_max_pages_and_depth(home: Path) -> None:
    config = Config.load(home, allow_private_addresses=True)
    store = open_store(config)
    routes: dict[str, object] = {}
    with serve(lambda h, p, hd: routes["r"](h, p, hd)) as web:  # type: ignore[operator]
        routes["r"] = site_route(web)
        shallow = crawl(config, store, web, max_pages=1000, depth=2, same_site=True)
        capped = crawl(config, open_store(Config.load(home / "other")), web, max_pages=25, depth=20)
    # depth 2 from "/": "/", then /p/0 and /p/3, then their children (1, 2, 7, 8)
    assert shallow.summary.pages == 7
    assert capped.summary.pages <= 25 and capped.summary.pages >= 20
    store.close()


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("192.168.0.10", True),
        ("172.16.5.5", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("0.0.0.0", True),
        ("::1", True),
        ("fe80::1", True),
        ("fd00::1", True),
        ("::ffff:127.0.0.1", True),
        ("224.0.0.1", True),
        ("8.8.8.8", False),
        ("2001:4860:4860::8888", False),
    ],
)
def test_guard_refuses_non_global_addresses(address: str, refused: bool) -> None:
    assert (refusal(address, allow_private=False) is not None) is refused


def test_private_site_refused_without_the_allow_setting(home: Path) -> None:
    config = Config.load(home)  # allow_private_addresses is off by default
    assert config.allow_private_addresses is False
    store = open_store(config)
    routes: dict[str, object] = {}
    with serve(lambda h, p, hd: routes["r"](h, p, hd)) as web:  # type: ignore[operator]
        routes["r"] = site_route(web)
        crawler = crawl(config, store, web, max_pages=50, depth=3)
        assert web.log == []  # refused before connecting: the server never saw a request
    assert crawler.summary.pages == 0 and crawler.summary.refused >= 1
    assert "127.0.0.1 is a loopback address" in crawler.summary.errors[0]["reason"]
    assert store.count("items") == 0
    store.close()


def test_every_redirect_hop_is_checked(home: Path) -> None:
    """127.0.0.1 allowed as a network, but a redirect to a metadata address or a private one is refused."""
    config = Config.load(home, allowed_networks=("127.0.0.1/32",))
    store = open_store(config)

    def route(host: str, path: str, headers: dict[str, str]) -> Reply:
        if path == "/robots.txt":
            return not_found()
        if path == "/":
            return html('<a href="/to-metadata">a</a> <a href="/to-private">b</a> <a href="/ok">c</a>')
        if path == "/to-metadata":
            return redirect("http://metadata.test/latest/meta-data/")
        if path == "/to-private":
            return redirect("http://10.20.30.40/admin")
        if path == "/ok":
            return html("<p>fine</p>")
        return not_found()

    with serve(route) as web:
        crawler = Crawler(
            config,
            Pipeline(store, []),
            CrawlSettings(max_pages=10, depth=2, fetch=FetchSettings(delay=0.0, timeout=5)),
            StaticResolver({"site.test": "127.0.0.1", "metadata.test": "169.254.169.254"}),
        )
        summary = crawler.run([web.url("site.test")])
    reasons = sorted(e["reason"] for e in summary.errors)
    assert summary.pages == 2 and summary.refused == 2
    assert any("169.254.169.254 is a link-local address" in r for r in reasons)
    assert any("10.20.30.40 is a private address" in r for r in reasons)
    store.close()


def test_limits_time_out_size_and_content_type(home: Path) -> None:
    config = Config.load(home, allow_private_addresses=True)
    store = open_store(config)

    def route(host: str, path: str, headers: dict[str, str]) -> Reply:
        if path == "/":
            return html(
                '<a href="/big">a</a> <a href="/pic">b</a> <a href="/slow">c</a> <a href="/loop">d</a>'
            )
        if path == "/big":
            return html("x" * 200_000)
        if path == "/pic":
            return 200, {"Content-Type": "image/png"}, LOGO
        if path == "/slow":
            time.sleep(2.5)
            return html("late")
        if path == "/loop":
            return redirect("/loop")
        return not_found()

    with serve(route) as web:
        crawler = Crawler(
            config,
            Pipeline(store, []),
            CrawlSettings(
                max_pages=10, depth=1, fetch=FetchSettings(delay=0.0, timeout=1.0, max_bytes=100_000)
            ),
            StaticResolver({"site.test": "127.0.0.1"}),
        )
        summary = crawler.run([web.url("site.test")])
    reasons = {e["url"].rsplit("/", 1)[-1]: e["reason"] for e in summary.errors}
    assert summary.pages == 1
    assert reasons["big"].startswith("larger than 100000 bytes")
    assert reasons["pic"] == "content type image/png not wanted"
    assert reasons["slow"].startswith("time-out")
    assert reasons["loop"] == "more than 10 redirects"
    store.close()
