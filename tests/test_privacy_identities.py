"""Pseudonymised identities: keys outside the database, pseudonyms in the store, clear values sealed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.privacy_helpers import CHANNEL, EMAIL, HANDLES, NATIVE_IDS, PHONE, PROFILE_URL, sample_items
from vigil.boot import open_store
from vigil.config import Config
from vigil.errors import ConfigError
from vigil.privacy.identities import IdentityGuard, guard_from_config
from vigil.privacy.keys import PSEUDONYM_ENV, load_or_create
from vigil.privacy.pseudonym import Pseudonymiser, is_pseudonym
from vigil.privacy.tables import identity_refs, identity_vault
from vigil.privacy.vault import Vault, VaultError
from vigil.store import Store
from vigil.store.schema import accounts, items


def test_key_file_created_0600_once_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PSEUDONYM_ENV, raising=False)
    path = tmp_path / "keys" / "pseudonym.key"
    key, where = load_or_create(path, PSEUDONYM_ENV)
    assert where == str(path) and len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_or_create(path, PSEUDONYM_ENV)[0] == key
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_or_create(path, PSEUDONYM_ENV)


def test_key_from_environment_wins_and_bad_one_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PSEUDONYM_ENV, "ab" * 32)
    key, where = load_or_create(tmp_path / "k", PSEUDONYM_ENV)
    assert key == bytes.fromhex("ab" * 32) and where == f"env:{PSEUDONYM_ENV}"
    assert not (tmp_path / "k").exists()
    monkeypatch.setenv(PSEUDONYM_ENV, "too-short")
    with pytest.raises(ConfigError, match=PSEUDONYM_ENV):
        load_or_create(tmp_path / "k", PSEUDONYM_ENV)


def test_pseudonyms_are_keyed_stable_and_normalised() -> None:
    one, two = Pseudonymiser(b"1" * 32), Pseudonymiser(b"2" * 32)
    p = one.pseudonym("handle", "@Example_User", "telegram")
    assert is_pseudonym(p) and p.startswith("psh_")
    assert p == one.pseudonym("handle", "example_user", "telegram")  # case and '@' do not matter
    assert p != two.pseudonym("handle", "example_user", "telegram")  # another key, another pseudonym
    assert p != one.pseudonym("handle", "example_user", "x")  # per platform
    assert one.pseudonym("phone", "+44 20 7946 0991") == one.pseudonym("phone", "+44-20-79460991")
    assert one.account_key("telegram:abc").startswith("telegram:psa_")


def test_vault_binds_ciphertext_to_its_pseudonym() -> None:
    vault = Vault(b"k" * 32)
    sealed = vault.seal("psh_" + "0" * 24, {"value": "x"})
    assert vault.open("psh_" + "0" * 24, sealed) == {"value": "x"}
    with pytest.raises(VaultError):
        vault.open("psh_" + "1" * 24, sealed)
    with pytest.raises(VaultError):
        Vault(b"j" * 32).open("psh_" + "0" * 24, sealed)


def test_store_keeps_pseudonyms_and_seals_clear_values(store: Store) -> None:
    guard = store.identities
    assert isinstance(guard, IdentityGuard)
    batch = sample_items()
    assert len(store.add_items(batch)) == len(batch)
    with store.read() as conn:
        acc_rows = list(conn.execute(select(accounts)).mappings())
        item_rows = list(conn.execute(select(items)).mappings())
        vault_rows = list(conn.execute(select(identity_vault)).mappings())
        refs = conn.execute(select(identity_refs)).all()
    # Two posting accounts and one channel, each stored under its pseudonymised key.
    assert len(acc_rows) == 3
    for row in acc_rows:
        platform, rest = row["key"].split(":", 1)
        assert platform == "telegram" and is_pseudonym(rest) and row["native_id"] == rest
        assert row["handle"] is None or is_pseudonym(row["handle"])
        assert row["display_name"] is None or is_pseudonym(row["display_name"])
    keys = {r["key"] for r in acc_rows}
    for row in item_rows:
        assert row["account_key"] in keys and row["channel_key"] in keys
    first = next(r for r in item_rows if r["id"] == batch[0].id)
    assert all(is_pseudonym(first["meta"][k]) for k in ("email", "phone", "profile_url"))
    assert first["forwarded_from"].split(":", 1)[1].startswith("psa_")
    assert is_pseudonym(first["meta"]["phone"]) and first["meta"]["phone"] != PHONE
    # The vault holds ciphertext only; the clear values decrypt with the guard's key.
    assert vault_rows and refs
    blob = b"".join(bytes(r["ciphertext"]) for r in vault_rows)
    for clear in (*HANDLES, CHANNEL, *NATIVE_IDS, EMAIL, PROFILE_URL):
        assert clear.encode() not in blob
    opened = [guard.vault.open(r["pseudonym"], bytes(r["ciphertext"]))["value"] for r in vault_rows]
    assert EMAIL in opened and PHONE in opened and HANDLES[0] in opened
    # The item read back names its account by the same pseudonym, so keys stay consistent.
    got = store.get_item(batch[1].id)
    assert got is not None and got.account is not None
    second = next(r for r in item_rows if r["id"] == batch[1].id)
    assert got.account.key == second["account_key"]
    assert got.account.handle == guard.handle("telegram", HANDLES[1])
    # Storing an item read back from the store does not pseudonymise twice.
    store.add_items([got])
    with store.read() as conn:
        assert len(list(conn.execute(select(accounts)))) == 3


def test_pseudonymisation_can_be_switched_off(home: Path) -> None:
    (home / "config.toml").write_text("[privacy]\npseudonymise = false\n", "utf-8")
    config = Config.load(home)
    assert guard_from_config(config) is None
    store = open_store(config)
    try:
        store.add_items(sample_items(2))
        with store.read() as conn:
            handles = set(conn.execute(select(accounts.c.handle)).scalars())
        assert HANDLES[0] in handles
    finally:
        store.close()


def test_bad_privacy_config_is_a_config_error(home: Path) -> None:
    (home / "config.toml").write_text('[privacy]\npseudonymise = "maybe"\n', "utf-8")
    with pytest.raises(ConfigError, match=r"privacy\.pseudonymise"):
        guard_from_config(Config.load(home))
