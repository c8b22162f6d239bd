"""A site's fingerprint: its page template (MinHash and SimHash of DOM tag paths), analytics and tracking
IDs, favicon hash, TLS certificate, media hashes and the sites it links to."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import lxml.html
import numpy as np
from lxml.etree import ParserError

NUM_PERM = 128
MAX_DEPTH = 14
MAX_LISTED = 500

#: Analytics and tracking IDs: (kind, pattern with the ID in group 1).
TRACKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("google-analytics", re.compile(r"\b(UA-\d{4,10}-\d{1,4})\b")),
    ("google-tag", re.compile(r"\b(G-[A-Z0-9]{6,12})\b")),
    ("google-tag-manager", re.compile(r"\b(GTM-[A-Z0-9]{4,10})\b")),
    ("google-ads", re.compile(r"\b(AW-\d{6,12})\b")),
    ("adsense", re.compile(r"\b(ca-pub-\d{10,20})\b")),
    ("yandex-metrika", re.compile(r"mc\.yandex\.ru/watch/(\d{5,12})")),
    ("yandex-metrika", re.compile(r"\bym\(\s*(\d{5,12})\s*,")),
    ("facebook-pixel", re.compile(r"fbq\(\s*['\"]init['\"]\s*,\s*['\"](\d{10,20})['\"]")),
    ("hotjar", re.compile(r"\bhjid\s*:\s*(\d{5,10})")),
    ("matomo", re.compile(r"setSiteId['\"]\s*,\s*['\"]?(\d{1,6})")),
    ("liveinternet", re.compile(r"counter\.yadro\.ru/hit;([\w-]+)")),
    ("mail-ru-top", re.compile(r"top-fwz1\.mail\.ru/counter\?id=(\d+)")),
    ("statcounter", re.compile(r"sc_project\s*=\s*(\d{5,10})")),
    ("clarity", re.compile(r"clarity\.ms/tag/([a-z0-9]{8,12})")),
)


@dataclass(slots=True)
class Fingerprint:
    site: str
    home: str
    pages: int = 0
    template_minhash: list[int] = field(default_factory=list)
    template_simhash: str = ""
    trackers: list[str] = field(default_factory=list)
    favicon: str | None = None
    tls: dict[str, Any] | None = None
    media: list[str] = field(default_factory=list)
    outlinks: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fingerprint:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def tag_paths(html: str) -> set[str]:
    """Root-to-element paths of tag names with their class names: the shape of a page's template."""
    try:
        doc = lxml.html.document_fromstring(html)
    except (ParserError, ValueError):
        return set()
    found: set[str] = set()
    stack: list[tuple[Any, str, int]] = [(doc, doc.tag, 0)]
    while stack:
        element, path, depth = stack.pop()
        found.add(path)
        if depth >= MAX_DEPTH:
            continue
        for child in element:
            if not isinstance(child.tag, str):
                continue
            classes = ".".join(sorted((child.get("class") or "").split()))
            stack.append((child, f"{path}/{child.tag}{'.' + classes if classes else ''}", depth + 1))
    return found


def trackers(html: str) -> set[str]:
    return {f"{kind}:{m.group(1)}" for kind, pattern in TRACKERS for m in pattern.finditer(html)}


_PRIME = np.uint64((1 << 61) - 1)
_RNG = np.random.default_rng(7)
_A = _RNG.integers(1, 1 << 32, NUM_PERM, dtype=np.uint64)
_B = _RNG.integers(0, 1 << 32, NUM_PERM, dtype=np.uint64)


def minhash(features: Iterable[str]) -> list[int]:
    """MinHash signature (NUM_PERM values) of a set of strings: universal hashing of 32-bit hashes."""
    hashes = np.fromiter(
        (int.from_bytes(hashlib.blake2b(f.encode("utf-8"), digest_size=4).digest(), "big") for f in features),
        dtype=np.uint64,
    )
    if hashes.size == 0:
        return []
    values = (_A[:, None] * hashes[None, :] + _B[:, None]) % _PRIME
    return [int(v) for v in values.min(axis=1)]


def simhash(features: Iterable[str]) -> int:
    counts = [0] * 64
    for feature in features:
        h = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "big")
        for bit in range(64):
            counts[bit] += 1 if h >> bit & 1 else -1
    return sum(1 << bit for bit in range(64) if counts[bit] > 0)


def template_similarity(a: Fingerprint, b: Fingerprint) -> float:
    if not a.template_minhash or not b.template_minhash:
        return 0.0
    same = sum(1 for x, y in zip(a.template_minhash, b.template_minhash, strict=True) if x == y)
    return same / len(a.template_minhash)


def simhash_distance(a: Fingerprint, b: Fingerprint) -> int:
    if not a.template_simhash or not b.template_simhash:
        return 64
    return (int(a.template_simhash, 16) ^ int(b.template_simhash, 16)).bit_count()


def build(
    site: str,
    home: str,
    pages_html: Iterable[str],
    page_count: int,
    favicon: str | None,
    tls: dict[str, Any] | None,
    media: Iterable[str],
    outlinks: Iterable[str],
) -> Fingerprint:
    paths: set[str] = set()
    found_trackers: set[str] = set()
    for html in pages_html:
        paths |= tag_paths(html)
        found_trackers |= trackers(html)
    return Fingerprint(
        site=site,
        home=home,
        pages=page_count,
        template_minhash=minhash(paths),
        template_simhash=f"{simhash(paths):016x}" if paths else "",
        trackers=sorted(found_trackers),
        favicon=favicon or None,
        tls=tls,
        media=sorted(media)[:MAX_LISTED],
        outlinks=sorted(outlinks)[:MAX_LISTED],
    )
