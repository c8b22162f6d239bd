"""IPv6 literal URLs (issue 16, finding 7): a site served on [::1] is crawled like any other, and every
place that rebuilds a URL from its parts (the crawler's canonical form, robots.txt origins, the privacy
normalisation for matching, the evidence request target) keeps brackets, ports and host intact."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
from hypothesis import given
from hypothesis import strategies as st

from tests.webserver import LocalWeb, Reply, html, not_found, redirect, serve
from vigil.boot import open_store
from vigil.config import Config
from vigil.crawl.crawler import Crawler, CrawlSettings
from vigil.crawl.page import absolute, canonical_url, site_of
from vigil.ingest.pipeline import Pipeline
from vigil.net.client import FetchSettings
from vigil.net.hops import HopRecorder
from vigil.net.robots import origin_of
from vigil.net.urls import authority, origin
from vigil.privacy.urls import normalise_url
from vigil.store.schema import items

LOOPBACK6 = "::1"
LOGO = b"\x89PNG\r\n\x1a\n" + b"logo" * 50


def site(web: LocalWeb) -> object:
    def route(host: str, path: str, headers: dict[str, str]) -> Reply:
        if host != "[::1]":
            return not_found()
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"
        if path == "/logo.png":
            return 200, {"Content-Type": "image/png"}, LOGO
        if path == "/":
            absolute_b = web.url(LOOPBACK6, "/b")
            return html(
                f'<img src="/logo.png"><a href="/a">a</a> <a href="{absolute_b}">b</a> '
                '<a href="/old">old</a> <a href="/private/x">private</a>'
            )
        if path == "/old":
            return redirect(web.url(LOOPBACK6, "/c"), 301)
        if path in ("/a", "/b", "/c"):
            return html(f"<p>Neutral placeholder page {path}.</p>", f"<title>{path}</title>")
        return not_found()

    return route


def test_crawl_a_site_on_the_ipv6_loopback(home: Path) -> None:
    config = Config.load(home, allowed_networks=("::1/128",))
    store = open_store(config)
    routes: dict[str, object] = {}
    with serve(lambda h, p, hd: routes["r"](h, p, hd), bind=LOOPBACK6) as web:  # type: ignore[operator]
        routes["r"] = site(web)
        crawler = Crawler(
            config,
            Pipeline(store, []),
            CrawlSettings(max_pages=20, depth=3, fetch=FetchSettings(delay=0.0, timeout=10)),
        )
        summary = crawler.run([web.url(LOOPBACK6)])
        fetched = Counter(p for _, p, _ in web.log)
    assert summary.errors == [] and summary.pages == 4, summary.errors
    with store.read() as conn:
        urls = set(conn.execute(items.select().with_only_columns(items.c.url)).scalars())
    assert urls == {web.url(LOOPBACK6, p) for p in ("/", "/a", "/b", "/c")}
    for url in urls:
        parsed = httpx.URL(url)
        assert (parsed.host, parsed.port) == (LOOPBACK6, web.port)
    assert fetched["/robots.txt"] == 1 and "/private/x" not in fetched and summary.robots_excluded == 1
    home_page = next(i for i in store.iter_items() if i.url == web.url(LOOPBACK6))
    assert home_page.media and home_page.media[0].url == web.url(LOOPBACK6, "/logo.png")
    assert set(crawler.sites) == {LOOPBACK6}
    assert crawler.sites[LOOPBACK6].home == web.url(LOOPBACK6)
    store.close()


def test_vigil_crawl_command_on_an_ipv6_literal(home: Path) -> None:
    """The command as reported: it crashed on the first page."""
    env = {**os.environ, "VIGIL_HOME": str(home), "VIGIL_ALLOWED_NETWORKS": "::1/128"}
    env.pop("VIGIL_DATABASE_URL", None)
    routes: dict[str, object] = {}
    with serve(lambda h, p, hd: routes["r"](h, p, hd), bind=LOOPBACK6) as web:  # type: ignore[operator]
        routes["r"] = site(web)
        done = subprocess.run(
            [sys.executable, "-m", "vigil", "crawl", web.url(LOOPBACK6), "--delay", "0", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["pages"] == 4 and summary["errors"] == []


def test_evidence_hops_on_the_ipv6_loopback(home: Path) -> None:
    """The evidence face (``HopRecorder``) rebuilds each hop's request target and Host header from the
    URL's parts: the brackets stay, on the redirect too."""
    config = Config.load(home, allowed_networks=("::1/128",))
    routes: dict[str, object] = {}
    with serve(lambda h, p, hd: routes["r"](h, p, hd), bind=LOOPBACK6) as web:  # type: ignore[operator]
        routes["r"] = site(web)
        with HopRecorder(config) as recorder:
            result = recorder.fetch(web.url(LOOPBACK6, "/old"))
        hosts = [hd.get("host") for _, p, hd in web.log]
    assert [(hop.url, hop.status, hop.ip) for hop in result.hops] == [
        (web.url(LOOPBACK6, "/old"), 301, LOOPBACK6),
        (web.url(LOOPBACK6, "/c"), 200, LOOPBACK6),
    ]
    assert hosts == [f"[::1]:{web.port}"] * 2
    assert [answers.host for answers in result.dns] == [LOOPBACK6]


# ---- the rule: rebuilding a URL from its parts keeps IPv6 literals, ports and the host intact ----------

labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
names = st.lists(labels, min_size=1, max_size=3).map(lambda ls: ".".join([*ls, "test"]))
ipv4 = st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))
ipv6_addresses = st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address)
ipv6 = st.one_of(
    ipv6_addresses.map(str),  # compressed: "::1", "2001:db8::5"
    ipv6_addresses.map(lambda a: a.exploded),  # "0000:...:0001"
    ipv6_addresses.map(lambda a: str(a).upper()),
)
hosts = st.one_of(names, ipv4, ipv6)
ports = st.one_of(st.none(), st.integers(1, 65535))
segments = st.lists(st.from_regex(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,7}", fullmatch=True), max_size=3)


def shown(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@st.composite
def urls(draw: st.DrawFn) -> tuple[str, str, str, int | None, str]:
    scheme = draw(st.sampled_from(["http", "https"]))
    host = draw(hosts)
    port = draw(ports)
    path = "/" + "/".join(draw(segments))
    netloc = shown(host) + (f":{port}" if port is not None else "")
    return f"{scheme}://{netloc}{path}", scheme, host, port, path


def default_port(scheme: str) -> int:
    return {"http": 80, "https": 443}[scheme]


@given(urls())
def test_canonical_url_keeps_ipv6_literals_and_ports(case: tuple[str, str, str, int | None, str]) -> None:
    url, scheme, host, port, path = case
    canon = canonical_url(url)
    assert canon is not None
    parsed = httpx.URL(canon)  # parses: brackets kept
    if ":" in host:
        assert ipaddress.ip_address(parsed.host) == ipaddress.ip_address(host)
    assert parsed.host == httpx.URL(url).host.lower()
    assert parsed.port == (None if port in (None, default_port(scheme)) else port)
    assert parsed.userinfo == b"" and parsed.path == path == httpx.URL(url).path
    assert canonical_url(canon) == canon  # a fixed point
    assert absolute(canon, "other") == canonical_url(canon.rsplit("/", 1)[0] + "/other")
    assert site_of(canon) == site_of(url)


@given(urls(), st.sampled_from(["user@", "user:secret@", ""]))
def test_canonical_url_netloc_has_no_userinfo(case: tuple[str, ...], userinfo: str) -> None:
    url = case[0]
    with_user = url.replace("://", f"://{userinfo}", 1)
    canon = canonical_url(with_user)
    assert canon is not None and "@" not in canon.split("/", 3)[2]
    assert canon == canonical_url(url)


@given(urls())
def test_origins_keep_ipv6_literals_and_ports(case: tuple[str, str, str, int | None, str]) -> None:
    url, scheme, _host, port, _path = case
    expected_port = "" if port in (None, default_port(scheme)) else f":{port}"
    got = origin(url)
    assert got == origin_of(url)
    assert got == f"{scheme}://{shown(httpx.URL(url).host)}{expected_port}"
    robots = httpx.URL(got + "/robots.txt")
    assert robots.host == httpx.URL(url).host and robots.path == "/robots.txt"
    assert authority(httpx.URL(url).host, port) == shown(httpx.URL(url).host) + (
        f":{port}" if port is not None else ""
    )


@given(urls())
def test_privacy_normalisation_keeps_ipv6_literals_and_ports(
    case: tuple[str, str, str, int | None, str],
) -> None:
    url, scheme, host, port, _path = case
    normal = normalise_url(url)
    parsed = httpx.URL(normal)  # parses: brackets kept
    if ":" in host:
        assert ipaddress.ip_address(parsed.host) == ipaddress.ip_address(host)
    kept = None if port in (None, default_port(scheme)) else port
    assert parsed.scheme == "https" and parsed.port == (None if kept == 443 else kept)
    assert normalise_url(normal) == normal
