"""Node and edge kinds, node keys, and the facts one item contributes to the graph."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

NODE_KINDS = (
    "outlet",
    "channel",
    "account",
    "domain",
    "ip",
    "asn",
    "hoster",
    "media",
    "target",
    "tracking",
    "template",
)
EDGE_KINDS = (
    "posted",
    "forwarded-from",
    "replied-to",
    "links-to",
    "resolves-to",
    "hosted-by",
    "shares-media",
    "mirrors",
    "part-of",
    "same-template",
    "same-tracking-id",
    "succeeded-by",
)

# Out-link targets worth a node of their own (file lockers, paste and mirror sites): the URL, not only
# the host, is what an analyst follows and refers.
TARGET_HOSTS = frozenset(
    {
        "archive.org",
        "files.fm",
        "gofile.io",
        "justpaste.it",
        "mega.nz",
        "mediafire.com",
        "pastebin.com",
        "dropbox.com",
        "drive.google.com",
        "docs.google.com",
        "telegra.ph",
        "top4top.io",
        "anonfiles.com",
        "ufile.io",
        "send.cm",
        "krakenfiles.com",
        "pixeldrain.com",
        "catbox.moe",
        "rentry.co",
        "dpaste.org",
        "ghostbin.co",
    }
)


@dataclass(slots=True)
class NodeFact:
    key: str
    kind: str
    label: str
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class EdgeFact:
    src: str
    dst: str
    kind: str
    item_id: str | None
    at: datetime | None
    counters: dict[str, float] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)


def host_of(url: str) -> str | None:
    """The lower-case host of a URL (``www.`` dropped), or None when it has none."""
    try:
        parts = urlsplit(url.strip() if "://" in url else "http://" + url.strip())
        host = parts.hostname
    except ValueError:
        return None
    if not host or len(host) > 253 or " " in host:
        return None
    host = host.rstrip(".").lower()
    return host[4:] if host.startswith("www.") else host


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def host_node(host: str) -> NodeFact:
    if is_ip(host):
        return NodeFact(f"ip:{host}", "ip", host)
    return NodeFact(f"domain:{host}", "domain", host)


def domain_node(name: str) -> NodeFact | None:
    host = host_of(name)
    return host_node(host) if host else None


def target_node(url: str, host: str) -> NodeFact:
    try:
        path = urlsplit(url if "://" in url else "http://" + url).path.rstrip("/")
    except ValueError:
        path = ""
    key = f"{host}{path}"[:600]
    return NodeFact(f"target:{key}", "target", key[:200], {"host": host})


def outlet_node(name: str) -> NodeFact:
    clean = " ".join(name.split())[:200]
    return NodeFact(f"outlet:{clean.casefold()}", "outlet", clean)


def channel_node(account_key: str, label: str | None, platform: str) -> NodeFact:
    return NodeFact(
        f"channel:{account_key}"[:600], "channel", (label or account_key)[:200], {"platform": platform}
    )
