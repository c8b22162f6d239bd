"""The identity guard the store calls on ingestion: accounts, channels, forwarded-from references and
identifying meta fields become pseudonyms; their clear values go, encrypted, to the vault.

``Store.open`` builds one from the configuration (``guard_from_config``) unless ``[privacy]
pseudonymise = false``. The guard holds keys, never clear values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, select

from vigil.config import Config
from vigil.core.model import Account, Item, utcnow
from vigil.privacy.dialect import insert
from vigil.privacy.keys import PSEUDONYM_ENV, VAULT_ENV, load_or_create
from vigil.privacy.pseudonym import Pseudonymiser, is_pseudonym
from vigil.privacy.settings import PrivacySettings
from vigil.privacy.tables import identity_refs, identity_vault
from vigil.privacy.vault import Vault


@dataclass(slots=True)
class _Pending:
    """One batch's work: vault entries to seal, item references, and pseudonyms computed so far (the
    memo lives only as long as the batch)."""

    vault: dict[str, dict[str, Any]]
    refs: set[tuple[str, str]]
    memo: dict[tuple[str, str, str], str]


class IdentityGuard:
    """Pseudonymises items on their way into the store. Keys are loaded on first use."""

    def __init__(self, config: Config, settings: PrivacySettings | None = None) -> None:
        self.config = config
        self.settings = settings or PrivacySettings.from_config(config)

    @cached_property
    def _pseudonym_key(self) -> tuple[bytes, str]:
        return load_or_create(self.config.home / "keys" / "pseudonym.key", PSEUDONYM_ENV)

    @cached_property
    def _vault_key(self) -> tuple[bytes, str]:
        return load_or_create(self.config.home / "keys" / "vault.key", VAULT_ENV)

    @cached_property
    def pseudonymiser(self) -> Pseudonymiser:
        return Pseudonymiser(self._pseudonym_key[0])

    @cached_property
    def vault(self) -> Vault:
        return Vault(self._vault_key[0])

    def key_sources(self) -> dict[str, str]:
        return {"pseudonym": self._pseudonym_key[1], "vault": self._vault_key[1]}

    # ---- what DNR entries, holds and lookups use -------------------------------------------------------

    def account_key(self, clear_key: str) -> str:
        if is_pseudonym(clear_key.split(":", 1)[-1]):
            return clear_key
        return self.pseudonymiser.account_key(clear_key)

    def handle(self, platform: str, handle: str) -> str:
        return handle if is_pseudonym(handle) else self.pseudonymiser.pseudonym("handle", handle, platform)

    # ---- the store hook --------------------------------------------------------------------------------

    def protect(self, conn: Connection, batch: Sequence[Item]) -> list[Item]:
        """Pseudonymised copies of ``batch``; the clear values are sealed into the vault in ``conn``."""
        pending = _Pending({}, set(), {})
        out = [self._protect_item(item, pending) for item in batch]
        known = self._known(conn, list(pending.vault))
        fresh = {p: clear for p, clear in pending.vault.items() if p not in known}
        if fresh:
            now = utcnow()
            rows = [
                {
                    "pseudonym": p,
                    "kind": clear["kind"],
                    "platform": clear["platform"],
                    "ciphertext": self.vault.seal(p, clear),
                    "created_at": now,
                }
                for p, clear in sorted(fresh.items())  # key order: no deadlock with a concurrent writer
            ]
            conn.execute(insert(conn, identity_vault).on_conflict_do_nothing(), rows)
        if pending.refs:
            refs = [{"pseudonym": p, "item_id": i} for p, i in sorted(pending.refs)]
            conn.execute(insert(conn, identity_refs).on_conflict_do_nothing(), refs)
        return out

    @staticmethod
    def _known(conn: Connection, pseudonyms: list[str], chunk: int = 500) -> set[str]:
        """Pseudonyms already in the vault: those are not sealed (encrypted) again."""
        found: set[str] = set()
        for k in range(0, len(pseudonyms), chunk):
            part = pseudonyms[k : k + chunk]
            found.update(
                conn.execute(
                    select(identity_vault.c.pseudonym).where(identity_vault.c.pseudonym.in_(part))
                ).scalars()
            )
        return found

    def _pseudonym(self, pending: _Pending, kind: str, platform: str, value: str) -> str:
        key = (kind, platform, value)
        found = pending.memo.get(key)
        if found is None:
            found = pending.memo[key] = self.pseudonymiser.pseudonym(kind, value, platform)
        return found

    def _seal(
        self, pending: _Pending, kind: str, platform: str, value: str, item_id: str | None = None
    ) -> str:
        """Pseudonym of ``value``, its clear value queued for the vault. ``item_id`` records that this item
        refers to it (account-level pseudonyms are referred to by their ``accounts`` row instead)."""
        p = self._pseudonym(pending, kind, platform, value)
        pending.vault.setdefault(p, {"kind": kind, "platform": platform, "value": value})
        if item_id is not None:
            pending.refs.add((p, item_id))
        return p

    def _account(self, acc: Account | None, pending: _Pending) -> Account | None:
        if acc is None or (acc.native_id and is_pseudonym(acc.native_id)):
            return acc
        clear_key = acc.key
        key_p = self._pseudonym(pending, "account", "", clear_key)
        pending.vault.setdefault(
            key_p,
            {
                "kind": "account",
                "platform": acc.platform,
                "value": clear_key,
                "native_id": acc.native_id,
                "handle": acc.handle,
                "display_name": acc.display_name,
            },
        )
        handle = self._seal(pending, "handle", acc.platform, acc.handle) if acc.handle else None
        name = self._seal(pending, "name", acc.platform, acc.display_name) if acc.display_name else None
        return Account(
            acc.platform, native_id=key_p, handle=handle, display_name=name, is_channel=acc.is_channel
        )

    def _protect_item(self, item: Item, pending: _Pending) -> Item:
        platform = (item.account or item.channel or Account(item.source)).platform
        meta = dict(item.meta)
        for key, value in item.meta.items():
            kind = self.settings.meta_keys.get(str(key).lower())
            if kind and isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                text = str(value)
                meta[key] = text if is_pseudonym(text) else self._seal(pending, kind, platform, text, item.id)
        forwarded = item.forwarded_from
        if forwarded and not is_pseudonym(forwarded.split(":", 1)[-1]):
            has_platform = ":" in forwarded and "://" not in forwarded
            clear_key = forwarded if has_platform else f"{platform}:{forwarded}"
            key_p = self._pseudonym(pending, "account", "", clear_key)
            forwarded = f"{clear_key.split(':', 1)[0]}:{key_p}"
            pending.vault.setdefault(
                key_p, {"kind": "account", "platform": platform, "value": clear_key, "handle": None}
            )
            pending.refs.add((key_p, item.id))
        return replace(
            item,
            account=self._account(item.account, pending),
            channel=self._account(item.channel, pending),
            forwarded_from=forwarded,
            meta=meta,
        )


def guard_from_config(config: Config) -> IdentityGuard | None:
    """The guard for a store opened with ``config``; ``None`` when pseudonymisation is switched off."""
    settings = PrivacySettings.from_config(config)
    return IdentityGuard(config, settings) if settings.pseudonymise else None
