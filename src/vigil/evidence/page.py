"""What a fetched page holds: its decoded text, its main text (trafilatura) and the media it embeds."""

from __future__ import annotations

import re
import zlib
from urllib.parse import urljoin, urlsplit

import lxml.html
import trafilatura
from lxml.etree import ParserError

from vigil.net.hops import Hop

_CHARSET = re.compile(r"charset=([\w.:-]+)", re.IGNORECASE)
_MEDIA_XPATH = (
    "//img/@src | //video/@src | //video/source/@src | //audio/@src | //audio/source/@src"
    " | //video/@poster | //meta[@property='og:image']/@content | //meta[@property='og:video']/@content"
)


def decoded_body(hop: Hop, limit: int) -> bytes:
    """The body with any gzip/deflate content-encoding undone, never more than ``limit`` bytes."""
    encoding = hop.header("content-encoding").lower().strip()
    if encoding not in ("gzip", "deflate", "x-gzip"):
        return hop.body
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS)
        return inflater.decompress(hop.body, limit)
    except zlib.error:
        return b""


def is_html(hop: Hop) -> bool:
    ctype = hop.header("content-type").lower()
    return "html" in ctype or (
        not ctype and hop.body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html"))
    )


def page_text(hop: Hop, limit: int) -> str:
    body = decoded_body(hop, limit)
    match = _CHARSET.search(hop.header("content-type"))
    charset = match.group(1) if match else "utf-8"
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def main_text(html: str) -> str:
    """The page's main text; the whole visible text when trafilatura finds no main part."""
    if not html.strip():
        return ""
    extracted = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True)
    if extracted:
        return extracted.strip()
    try:
        return " ".join(lxml.html.fromstring(html).text_content().split())
    except (ParserError, ValueError):
        return ""


def media_urls(html: str, base_url: str, limit: int = 50) -> list[str]:
    if not html.strip():
        return []
    try:
        tree = lxml.html.fromstring(html)
    except (ParserError, ValueError):
        return []
    found: list[str] = []
    for value in tree.xpath(_MEDIA_XPATH):
        url = urljoin(base_url, str(value).strip())
        if urlsplit(url).scheme in ("http", "https") and url not in found:
            found.append(url)
        if len(found) >= limit:
            break
    return found
