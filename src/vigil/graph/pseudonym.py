"""Account node keys.

The graph never stores a person's clear handle. With the store's identity guard (the default, see
``vigil.privacy.identities``) items are stored with pseudonymised account and channel keys
(``telegram:psa_...``): an account node's key is that stored key (``account:telegram:psa_...``) and a
clear key given by an analyst (``--account telegram:NAME``, a ``--channel``) is mapped to it through the
guard. Without the guard (``[privacy] pseudonymise = false``) the graph falls back to its own keyed
pseudonym: HMAC-SHA256 of the account key with a secret in ``$VIGIL_HOME/graph-pseudonym.key``
(``account:<32 hex>``). ``AccountKeys`` is the only place that derives account node keys.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from vigil.privacy.pseudonym import is_pseudonym

if TYPE_CHECKING:
    from vigil.privacy.identities import IdentityGuard
    from vigil.store import Store

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


def is_pseudonymised(account_key: str) -> bool:
    """Whether ``platform:id`` is already a stored pseudonym (``telegram:psa_...``)."""
    return is_pseudonym(account_key.rsplit(":", 1)[-1])


class AccountKeys:
    """Maps account and channel keys, clear or as stored, to what the graph uses.

    ``canonical`` gives the stored form of a key (the guard's pseudonym; the key itself without a guard);
    ``node_key`` the key of an account node. The fallback pseudonymiser is only made when needed.
    """

    def __init__(
        self,
        identities: IdentityGuard | None,
        fallback: Pseudonymiser | Callable[[], Pseudonymiser] | None = None,
    ) -> None:
        self.identities = identities
        self._fallback = fallback

    @classmethod
    def for_store(cls, store: Store, fallback: Pseudonymiser | None = None) -> AccountKeys:
        return cls(getattr(store, "identities", None), fallback)

    def _pseudonymiser(self) -> Pseudonymiser:
        found = self._fallback
        if isinstance(found, Pseudonymiser):
            return found
        if found is None:
            from vigil.config import Config

            made = Pseudonymiser.for_home(Config.load().home)
        else:
            made = found()
        self._fallback = made
        return made

    def canonical(self, key: str) -> str:
        if self.identities is None or is_pseudonymised(key):
            return key
        return self.identities.account_key(key)

    def node_key(self, key: str) -> str:
        if is_pseudonymised(key):
            return f"account:{key}"
        if self.identities is not None:
            return f"account:{self.identities.account_key(key)}"
        return self._pseudonymiser().node_key(key)


def account_label(node_key: str) -> str:
    """``psa_...`` for a stored pseudonym (what ``vigil privacy reveal`` takes), else ``acct-`` + 10 hex."""
    tail = node_key.rsplit(":", 1)[-1]
    if is_pseudonym(tail):
        return tail
    return "acct-" + node_key.split(":", 1)[1][:10]
