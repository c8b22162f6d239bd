"""Hostile input for the crawler's parsers: HTML, URLs, headers, the out-link registry. They never raise;
they return what they can."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.crawl.outlinks import OutlinkRegistry
from vigil.crawl.page import canonical_url, parse_page
from vigil.errors import ConfigError
from vigil.mirrors.fingerprint import build, tag_paths, trackers
from vigil.net.client import content_type

HTML_BITS = st.sampled_from(
    [
        "<a href='",
        "'>",
        "<img src=",
        "<div class='x y'>",
        "</div>",
        "<title>",
        "<script>",
        "<!--",
        "\x00",
        "<link rel=icon href=",
        "javascript:alert(1)",
        "http://[::1",
        "%ff",
        "\ud800",
        "<html>",
        "<body>",
    ]
)
HOSTILE = st.lists(st.one_of(HTML_BITS, st.text(max_size=30)), max_size=40).map("".join)


@settings(max_examples=150, deadline=None)
@given(HOSTILE)
def test_parse_page_never_raises(html: str) -> None:
    page = parse_page(html, "http://a.test/dir/page")
    assert all(link.startswith(("http://", "https://")) for link in page.links + page.images)
    assert isinstance(page.text, str)
    fp = build("a.test", "http://a.test/", [html], 1, None, None, [], [])
    assert fp.site == "a.test" and isinstance(tag_paths(html), set) and isinstance(trackers(html), set)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_canonical_url_never_raises(url: str) -> None:
    found = canonical_url(url)
    assert found is None or found.startswith(("http://", "https://"))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_content_type_never_raises(header: str) -> None:
    mime, charset = content_type(header)
    assert mime == mime.strip().lower() and "\n" not in charset


def test_canonical_forms() -> None:
    assert canonical_url("HTTP://Example.ORG:80/a?b=1#frag") == "http://example.org/a?b=1"
    assert canonical_url("https://example.org") == "https://example.org/"
    assert canonical_url("https://example.org:8443/x") == "https://example.org:8443/x"
    for bad in ("javascript:alert(1)", "mailto:a@b.c", "ftp://x/", "", "http://"):
        assert canonical_url(bad) is None
    assert content_type('text/html; charset="ISO-8859-1"') == ("text/html", "iso8859-1")
    assert content_type("text/html; charset=no-such-codec") == ("text/html", "utf-8")


def test_registry_extension_and_bad_files(tmp_path: Path) -> None:
    extra = tmp_path / "outlinks.yaml"
    extra.write_text("lockers: [files.example]\n", "utf-8")
    registry = OutlinkRegistry.load(extra)
    assert registry.kind("dl.files.example") == "locker"
    assert registry.kind("bit.ly") == "shortener" and registry.kind("www.pastebin.com") == "paste"
    assert registry.kind("example.org") is None and registry.kind("") is None
    for text in ("lockers: files.example\n", "[1, 2]\n", "spam: [a]\n", "lockers: [unclosed\n"):
        extra.write_text(text, "utf-8")
        with pytest.raises(ConfigError):
            OutlinkRegistry.load(extra)
