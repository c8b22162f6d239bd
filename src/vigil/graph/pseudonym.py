"""Account node keys.

The graph never stores a person's clear handle. With the store's identity guard (the default, see
``vigil.privacy.identities``) items are stored with pseudonymised account and channel keys
(``telegram:psa_...``): an account node's key is that stored key (``account:telegram:psa_...``) and a
clear key given by an analyst (``--account telegram:NAME``, a ``--channel``) is mapped to it through the
guard. Without the guard (``[privacy] pseudonymise = false``) the graph computes the same pseudonym itself,
with the same class and key (``vigil.privacy.pseudonym.Pseudonymiser`` under ``keys/pseudonym.key``), so
a node's key does not depend on whether the store pseudonymised. ``AccountKeys`` is the only place that
derives account node keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from vigil.privacy.pseudonym import Pseudonymiser, is_pseudonym

if TYPE_CHECKING:
    from vigil.privacy.identities import IdentityGuard
    from vigil.store import Store


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
        return f"account:{self._pseudonymiser().account_key(key)}"


def account_label(node_key: str) -> str:
    """``psa_...`` for a stored pseudonym (what ``vigil privacy reveal`` takes), else ``acct-`` + 10 hex."""
    tail = node_key.rsplit(":", 1)[-1]
    if is_pseudonym(tail):
        return tail
    return "acct-" + node_key.split(":", 1)[1][:10]
