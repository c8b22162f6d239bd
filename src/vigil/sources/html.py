"""HTML helpers the sources share: visible text, main text of a page (trafilatura), links and images."""

from __future__ import annotations

import logging
import re
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANKS = re.compile(r"\n\s*\n+")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_DROP = ("script", "style", "noscript", "template", "head")


def _parse(html: str) -> lxml.html.HtmlElement | None:
    if not html or not html.strip():
        return None
    html = _XML_DECLARATION.sub("", html, count=1)  # lxml refuses str input that declares an encoding
    if not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def html_to_text(html: str) -> str:
    """All visible text of an HTML fragment or page, whitespace tidied, block elements on their own lines."""
    root = _parse(html)
    if root is None:
        return ""
    for bad in root.iter(*_DROP):
        bad.drop_tree()
    for block in root.iter("br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"):
        block.tail = "\n" + (block.tail or "")
    text = root.text_content()
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def main_text(html: str, url: str | None = None) -> str:
    """The main text of a web page (boilerplate removed by trafilatura); all visible text as a fallback."""
    import trafilatura

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    try:
        found = trafilatura.extract(html, url=url, include_comments=False, favor_recall=True)
    except Exception:  # trafilatura has no narrow error type; a bad page must fall back, not fail
        found = None
    return found.strip() if found else html_to_text(html)


def _absolute(href: str, base: str | None) -> str | None:
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "data:")):
        return None
    try:
        full = urljoin(base, href) if base else href
        return full if urlsplit(full).scheme in {"http", "https"} else None
    except ValueError:  # e.g. an unbalanced "[" in the host part
        return None


def links_and_images(html: str, base: str | None = None) -> tuple[list[str], list[str]]:
    """Absolute http(s) out-links (``a href``) and image URLs (``img src``), in order, without repeats."""
    root = _parse(html)
    if root is None:
        return [], []
    links: dict[str, None] = {}
    images: dict[str, None] = {}
    for el in root.iter("a", "img"):
        attr = "href" if el.tag == "a" else "src"
        url = _absolute(el.get(attr) or "", base)
        if url:
            (links if el.tag == "a" else images)[url] = None
    return list(links), list(images)
