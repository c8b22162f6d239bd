"""A fetched web page as an Item: readable text (trafilatura), out-links, images, title, favicon."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import httpx
import lxml.html
from lxml.etree import ParserError

from vigil.core.model import Item, Media, Origin, make_item_id
from vigil.net.urls import DEFAULT_PORTS, authority
from vigil.sources.html import links_and_images, main_text

SOURCE = "web"


def canonical_url(url: str) -> str | None:
    """Scheme and host lower-cased, user information, default port and fragment dropped (an IPv6 literal
    keeps its brackets); None for what is not http(s)."""
    try:
        u = httpx.URL(url.strip())
    except (httpx.InvalidURL, ValueError):
        return None
    if u.scheme not in ("http", "https") or not u.host:
        return None
    port = u.port if u.port and u.port != DEFAULT_PORTS[u.scheme] else None
    path = u.raw_path.decode("ascii", "replace") or "/"
    return f"{u.scheme}://{authority(u.host.lower(), port)}{path}"


def absolute(base_url: str, href: str) -> str | None:
    """A link made absolute and canonical; None when it is malformed or not http(s)."""
    try:
        return canonical_url(urljoin(base_url, href))
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None


def site_of(url: str) -> str:
    host = httpx.URL(url).host.lower()
    return host[4:] if host.startswith("www.") else host


@dataclass(slots=True)
class ParsedPage:
    title: str = ""
    text: str = ""
    links: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    favicon: str | None = None


def parse_page(html: str, base_url: str) -> ParsedPage:
    """Text, links and images through the sources' HTML helpers; title and favicon here."""
    page = ParsedPage()
    links, images = links_and_images(html, base_url)
    page.links = list(dict.fromkeys(c for c in map(canonical_url, links) if c))
    page.images = list(dict.fromkeys(c for c in map(canonical_url, images) if c))
    try:
        page.text = main_text(html, base_url, fast=True)
    except ValueError:  # html_to_text's fallback refuses control characters (lxml); title text below
        page.text = ""
    try:
        doc = lxml.html.document_fromstring(html.encode("utf-8", "surrogatepass"))
    except (ParserError, ValueError):
        return page
    page.title = " ".join((doc.findtext(".//title") or "").split())[:500]
    icons = doc.xpath("//link[contains(concat(' ', normalize-space(@rel), ' '), ' icon ')]/@href")
    page.favicon = absolute(base_url, str(icons[0])) if icons else None
    page.text = page.text or page.title
    return page


def page_item(
    url: str,
    html: str,
    parsed: ParsedPage,
    media: list[Media],
    meta: dict[str, Any],
    max_html: int,
) -> Item:
    canon = canonical_url(url) or url
    return Item(
        id=make_item_id(SOURCE, canon),
        source=SOURCE,
        text=parsed.text,
        native_id=canon,
        html=html if len(html) <= max_html else None,
        url=url,
        links=parsed.links,
        media=media,
        origin=Origin(url, "", SOURCE),
        meta={"title": parsed.title, **meta},
    )
