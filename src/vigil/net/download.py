"""Fetch a URL to a local file for the sources to read (``vigil scan URL``, watched feeds).

The fetch is the crawler's (``vigil.net.client``): the SSRF guard checks every address after DNS
resolution and on every redirect hop (private, loopback and link-local refused unless the configuration
allows them), with the configured time-out, and the body is streamed to disk under ``max_file_bytes``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from vigil.config import Config
from vigil.errors import SourceError
from vigil.net.client import Fetched, FetchSettings, fetch_sync
from vigil.net.guard import AddressResolver

_URL = re.compile(r"^https?://", re.IGNORECASE)


def is_url(target: str) -> bool:
    return bool(_URL.match(target))


@dataclass(slots=True)
class Download:
    #: The file, or None when the server said the copy we have is current (304).
    path: Path | None
    fetched: Fetched


def file_name(url: str, fallback: str = "download") -> str:
    """A safe local name from the last segment of a URL's path (the sources sniff by extension too)."""
    name = Path(urlsplit(url).path).name
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100].lstrip(".") or fallback


def download(
    url: str,
    folder: Path,
    config: Config,
    resolver: AddressResolver | None = None,
    headers: dict[str, str] | None = None,
) -> Download:
    """GET ``url`` into ``folder``; a refusal, an HTTP error or a size over the limit is a SourceError."""
    settings = FetchSettings(max_bytes=config.max_file_bytes, timeout=config.http_timeout, delay=0.0)
    partial = folder / ".partial"
    with partial.open("wb") as out:
        got = fetch_sync(config, url, settings, resolver, headers=headers, into=out)
    if got.status == 304:
        partial.unlink()
        return Download(None, got)
    if not got.ok:
        partial.unlink()
        raise SourceError(got.error or f"HTTP {got.status}", url)
    target = folder / file_name(got.final_url or url, file_name(url))
    partial.rename(target)
    return Download(target, got)
