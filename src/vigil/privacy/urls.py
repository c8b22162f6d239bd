"""URL normalisation for matching: the same page reported in different spellings compares equal."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from vigil.errors import UsageError

_TRACKING = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid", "igshid"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL = 8192
_HOST = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]{0,251}[a-z0-9_])?")
_IPV6 = re.compile(r"[0-9a-f:.]{2,45}")


def normalise_host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    if host.startswith("www."):
        host = host[4:]
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def normalise_url(url: str) -> str:
    """Lower-case scheme and host, IDNA host, no ``www.``, no default port, no fragment, no tracking
    parameters, query sorted, no trailing slash. Raises ``UsageError`` for anything but http(s)."""
    if len(url) > MAX_URL:
        raise UsageError(f"URL longer than {MAX_URL} characters")
    text = url.strip()
    if "://" not in text and "." in text.split("/", 1)[0]:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"not a valid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise UsageError("expected an http(s) URL with a host")
    host = normalise_host(parts.hostname)
    if ":" in host and _IPV6.fullmatch(host):
        host = f"[{host}]"
    elif not _HOST.fullmatch(host):
        raise UsageError(f"not a valid host name: {parts.hostname!r}")
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~%") or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = urlencode(
        sorted(
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not (k.lower().startswith("utm_") or k.lower() in _TRACKING)
        )
    )
    return urlunsplit(("https" if scheme == "http" else scheme, netloc, path, query, ""))


def url_host(url: str) -> str:
    return urlsplit(url).hostname or ""


def host_in_domain(host: str, domain: str) -> bool:
    host, domain = normalise_host(host), normalise_host(domain)
    return bool(domain) and (host == domain or host.endswith("." + domain))
