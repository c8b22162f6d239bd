"""Keyed pseudonyms for accounts: HMAC-SHA256 of the account key with a secret kept in ``$VIGIL_HOME``.

The graph never stores a person's clear handle: an account node's key and label are derived from the
pseudonym. The same key always gives the same pseudonym (so the graph can be built incrementally and
an analyst who already knows a handle can look it up), but the pseudonym cannot be reversed without the
secret. Rotating the secret (deleting the file) unlinks the graph from every earlier pseudonym.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_FILE = "graph-pseudonym.key"
KEY_BYTES = 32


class Pseudonymiser:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("pseudonym secret must be at least 16 bytes")
        self._secret = secret

    @classmethod
    def for_home(cls, home: Path) -> Pseudonymiser:
        """The secret under ``home``, created (mode 0600) the first time it is needed."""
        path = home / KEY_FILE
        if not path.exists():
            home.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(KEY_BYTES))
        return cls(path.read_bytes())

    def pseudonym(self, account_key: str) -> str:
        return hmac.new(
            self._secret, account_key.encode("utf-8", "surrogatepass"), hashlib.sha256
        ).hexdigest()[:32]

    def node_key(self, account_key: str) -> str:
        return f"account:{self.pseudonym(account_key)}"


def account_label(node_key: str) -> str:
    return "acct-" + node_key.split(":", 1)[1][:10]
