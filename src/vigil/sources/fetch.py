"""Fetch a URL to a local file for the sources to read: streamed, size-limited, with a time-out."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from vigil.config import Config
from vigil.errors import SourceError

_URL = re.compile(r"^https?://", re.IGNORECASE)


def is_url(target: str) -> bool:
    return bool(_URL.match(target))


def fetch_to_file(url: str, folder: Path, config: Config) -> Path:
    name = Path(urlsplit(url).path).name or "index"
    target = folder / re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100]
    size = 0
    try:
        with (
            httpx.Client(
                timeout=config.http_timeout, follow_redirects=True, headers={"User-Agent": config.user_agent}
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise SourceError(f"HTTP {response.status_code}", url)
            with target.open("wb") as out:
                for chunk in response.iter_bytes(1 << 16):
                    size += len(chunk)
                    if size > config.max_file_bytes:
                        raise SourceError(f"larger than {config.max_file_bytes} bytes", url)
                    out.write(chunk)
    except httpx.HTTPError as exc:
        raise SourceError(f"fetch failed: {exc}", url) from exc
    return target
