"""Mirror detection: a known outlet's site copied under another host name is linked as a probable mirror,
with its evidence, and raises a case; a different site is not."""

from __future__ import annotations

from pathlib import Path

from tests.webserver import LocalWeb, Reply, html, not_found
from vigil.config import Config
from vigil.crawl.crawler import Crawler, CrawlSettings
from vigil.ingest.pipeline import Pipeline
from vigil.mirrors.check import check_crawl, list_links
from vigil.mirrors.compare import compare
from vigil.mirrors.fingerprint import Fingerprint, trackers
from vigil.net.client import FetchSettings
from vigil.net.guard import StaticResolver
from vigil.store import Store

ICON = b"\x00\x00\x01\x00" + b"outlet-icon" * 20
OTHER_ICON = b"\x00\x00\x01\x00" + b"other-icon" * 20
BANNER = b"\x89PNG\r\n\x1a\n" + b"banner" * 40
TRACKING = "<script>gtag('config', 'G-TEST12345'); ym(98765432, 'init', {});</script>"


def outlet_page(i: int) -> Reply:
    nav = "".join(f'<li class="nav-item"><a href="/news/{j}">Section {j}</a></li>' for j in range(5))
    return html(
        f'<header class="site-header"><ul class="nav main">{nav}</ul></header>'
        f'<main class="content"><article class="post"><h2 class="post-title">Item {i}</h2>'
        f'<div class="post-body"><p>Neutral placeholder report {i}.</p><img src="/img/banner.png"></div>'
        f'</article></main><footer class="site-footer"><span class="copy">footer</span></footer>',
        f'<title>Item {i}</title><link rel="icon" href="/favicon.ico">{TRACKING}',
    )


def other_page(i: int) -> Reply:
    return html(
        f'<div id="wrap"><table class="grid"><tr><td class="cell">Recipe {i}</td></tr></table>'
        f'<p class="note">A neutral cooking note.</p><a href="/r/{(i + 1) % 5}">next</a></div>',
        '<title>Recipes</title><link rel="icon" href="/icon.ico">',
    )


def route(host: str, path: str, headers: dict[str, str]) -> Reply:
    if path == "/robots.txt":
        return not_found()
    if host in ("outlet.test", "www.mirror-copy.test"):  # the same site, under two names
        if path == "/favicon.ico":
            return 200, {"Content-Type": "image/x-icon"}, ICON
        if path == "/img/banner.png":
            return 200, {"Content-Type": "image/png"}, BANNER
        if path == "/":
            return outlet_page(0)
        if path.startswith("/news/"):
            return outlet_page(int(path.rsplit("/", 1)[1]) + 1)
    if host == "recipes.test":
        if path == "/icon.ico":
            return 200, {"Content-Type": "image/x-icon"}, OTHER_ICON
        if path == "/" or path.startswith("/r/"):
            return other_page(int(path.rsplit("/", 1)[1] or 0))
    return not_found()


def crawl(config: Config, store: Store, web: LocalWeb, host: str, outlet: str | None = None) -> list:
    resolver = StaticResolver(
        dict.fromkeys(("outlet.test", "www.mirror-copy.test", "recipes.test"), "127.0.0.1")
    )
    pipeline = Pipeline(store, [])
    crawler = Crawler(
        config,
        pipeline,
        CrawlSettings(max_pages=20, depth=2, same_site=True, fetch=FetchSettings(delay=0.0)),
        resolver,
    )
    crawler.run([web.url(host)])
    assert crawler.summary.pages >= 3, crawler.summary.errors
    return check_crawl(store, pipeline, crawler, outlet)


def test_copy_under_another_name_is_a_probable_mirror(home: Path, store: Store) -> None:
    from tests.webserver import serve

    config = Config.load(home, allow_private_addresses=True)
    with serve(route) as web:
        assert crawl(config, store, web, "outlet.test", outlet="Amaq") == []
        assert crawl(config, store, web, "recipes.test") == []
        links = crawl(config, store, web, "www.mirror-copy.test")
    assert len(links) == 1
    link = links[0]
    assert (link.domain, link.outlet, link.outlet_domain) == ("mirror-copy.test", "Amaq", "outlet.test")
    kinds = {e["kind"] for e in link.evidence}
    assert {"template", "trackers", "favicon", "media"} <= kinds
    trackers_ev = next(e for e in link.evidence if e["kind"] == "trackers")
    assert (
        "google-tag:G-TEST12345" in trackers_ev["detail"]
        and "yandex-metrika:98765432" in trackers_ev["detail"]
    )
    assert link.score >= 0.8
    case = store.get_case(link.case_id) if link.case_id else None
    assert case is not None and case.item_id == link.item_id
    assert case.title == "probable mirror of Amaq (outlet.test) on mirror-copy.test"
    assert case.meta["mirror_of"] == {"outlet": "Amaq", "domain": "outlet.test"}
    page = store.get_item(case.item_id)
    assert page is not None and page.url == web.url("www.mirror-copy.test", "/")
    assert [lk.domain for lk in list_links(store)] == ["mirror-copy.test"]
    # checking again links nothing new and opens no second case
    with serve(route) as web2:
        assert crawl(config, store, web2, "www.mirror-copy.test") == []
    assert store.count("cases") == 1


def test_one_kind_of_evidence_is_not_enough() -> None:
    base = dict(site="a.test", home="http://a.test/", template_minhash=[1, 2, 3, 4])
    a = Fingerprint(**base, trackers=["google-tag:G-AAAAAAA"])  # type: ignore[arg-type]
    b = Fingerprint(**{**base, "site": "b.test"}, trackers=[])  # type: ignore[arg-type]
    match = compare(b, a)
    assert [e.kind for e in match.evidence] == ["template"] and not match.probable_mirror
    c = Fingerprint(**{**base, "site": "c.test"}, trackers=["google-tag:G-AAAAAAA"])  # type: ignore[arg-type]
    assert compare(c, a).probable_mirror


def test_tracker_ids() -> None:
    page = (
        "<script>ga('create', 'UA-1234567-2');</script><script src='https://www.googletagmanager.com/"
        "gtm.js?id=GTM-AB12CD'></script><img src='https://mc.yandex.ru/watch/44556677'>"
        "<script>fbq('init', '123456789012345');</script>"
    )
    assert trackers(page) == {
        "google-analytics:UA-1234567-2",
        "google-tag-manager:GTM-AB12CD",
        "yandex-metrika:44556677",
        "facebook-pixel:123456789012345",
    }
