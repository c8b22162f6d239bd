"""Keyed pseudonyms: HMAC-SHA256 over a kind, a platform and a normalised value.

A pseudonym looks like ``psa_3f9c0e...`` (``ps`` + a one-letter kind tag + 24 hex digits, 96 bits). The
same clear value always gives the same pseudonym under one key, so joins, counts and the graph still
work; without the key nobody can go back, and only the vault holds the clear value.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

from vigil.errors import UsageError

KIND_TAGS = {
    "account": "a",  # an account key, platform:id-or-handle
    "handle": "h",
    "name": "n",
    "user_id": "i",
    "email": "e",
    "phone": "p",
    "url": "u",
}
PSEUDONYM_RE = re.compile(r"\bps[a-z]_[0-9a-f]{24}\b")


def is_pseudonym(value: str) -> bool:
    return PSEUDONYM_RE.fullmatch(value) is not None


def normalise(kind: str, value: str) -> str:
    """The form that is hashed: handles and e-mails ignore case, phones keep only digits and a '+'."""
    value = value.strip()
    if kind == "handle":
        return value.lstrip("@").lower()
    if kind == "email":
        return value.lower()
    if kind == "phone":
        return ("+" if value.startswith("+") else "") + "".join(c for c in value if c.isdigit())
    if kind == "url":
        from vigil.privacy.urls import normalise_url

        try:
            return normalise_url(value)
        except UsageError:
            return value
    return value


class Pseudonymiser:
    """Computes pseudonyms under one key. Holds no clear values."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("pseudonym key must be at least 32 bytes")
        self._key = key

    def pseudonym(self, kind: str, value: str, platform: str = "") -> str:
        tag = KIND_TAGS.get(kind)
        if tag is None:
            raise UsageError(f"unknown identifier kind {kind!r}; known: {', '.join(KIND_TAGS)}")
        body = f"{kind}\x1f{platform}\x1f{normalise(kind, value)}".encode("utf-8", "surrogatepass")
        return f"ps{tag}_{hmac.digest(self._key, body, hashlib.sha256).hex()[:24]}"

    @classmethod
    def for_home(cls, home: Path) -> Pseudonymiser:
        """Under the one pseudonym key of ``home`` (``keys/pseudonym.key`` or ``VIGIL_PSEUDONYM_KEY``), the
        key the identity guard uses: a pseudonym means the same thing wherever vigil computes it."""
        from vigil.privacy.keys import PSEUDONYM_ENV, load_or_create

        return cls(load_or_create(home / "keys" / "pseudonym.key", PSEUDONYM_ENV)[0])

    def account_key(self, clear_key: str) -> str:
        """The stored key of an account: ``platform:<pseudonym of the whole clear key>``."""
        platform = clear_key.split(":", 1)[0]
        return f"{platform}:{self.pseudonym('account', clear_key)}"
