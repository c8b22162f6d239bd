"""Retention: move the clock, delete exactly what is due, nothing under a hold, twice is a no-op."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.privacy_helpers import HANDLES, cli, make_item, open_case, set_state
from vigil.audit import log as audit
from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import Media, utcnow
from vigil.errors import ConfigError
from vigil.privacy.access import PermissionDenied
from vigil.privacy.holds import add_hold, lift_hold
from vigil.privacy.retention import run_retention
from vigil.privacy.settings import RetentionPolicy
from vigil.privacy.tables import identity_vault
from vigil.store import Store
from vigil.store.schema import accounts, media


def _count(store: Store, table: object) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _ids(store: Store) -> set[str]:
    return {i.id for i in store.iter_items()}


def test_clock_moves_and_exactly_what_is_due_goes(store: Store) -> None:
    now = utcnow()
    raw = [make_item(i) for i in range(10, 15)]
    store.add_items(raw)
    pic = Media("b" * 64, "image/png", 3, kind="image")
    dismissed_old = open_case(store, make_item(20, media=[pic]), "dismissed")
    dismissed_new = open_case(store, make_item(21), "dismissed")
    confirmed_old = open_case(store, make_item(22), "confirmed")
    open_old = open_case(store, make_item(23), "triage")
    set_state(store, dismissed_old, "dismissed", now - timedelta(days=200))
    set_state(store, dismissed_new, "dismissed", now - timedelta(days=10))
    set_state(store, confirmed_old, "removed", now - timedelta(days=800))
    set_state(store, open_old, "triage", now - timedelta(days=900))
    add_hold(store, "ivy", "item", raw[0].id, "proceedings REF-1")
    policy = RetentionPolicy(batch_size=2)

    # Nothing raw is due yet; the old dismissed and confirmed cases are.
    early = run_retention(store, policy, now=now, dry_run=True)
    assert early.classes["raw_items"].due == 0
    assert early.classes["dismissed_cases"].ids == [str(dismissed_old)]
    assert early.classes["confirmed_cases"].ids == [str(confirmed_old)]
    assert store.get_case(dismissed_old) is not None  # dry run deletes nothing

    later = now + timedelta(days=91)
    report = run_retention(store, policy, now=later)
    assert report.classes["raw_items"].deleted == 4 and report.classes["raw_items"].held == 1
    assert sorted(report.classes["raw_items"].ids) == sorted(i.id for i in raw[1:])
    assert report.classes["dismissed_cases"].deleted == 1
    assert report.classes["confirmed_cases"].deleted == 1
    assert store.get_case(dismissed_old) is None and store.get_case(confirmed_old) is None
    assert store.get_case(dismissed_new) is not None and store.get_case(open_old) is not None
    assert _ids(store) == {raw[0].id, make_item(21).id, make_item(23).id}
    assert report.classes["media"].ids == ["b" * 64] and _count(store, media) == 0
    # Batches of two: the four raw items took two audited batches, with ids and no content.
    batches = [e for e in audit.entries(store, limit=100) if e.action == "retention.delete"]
    raw_batches = [e for e in batches if e.target_id == "raw_items"]
    assert sorted(len(e.details["ids"]) for e in raw_batches) == [2, 2]
    assert all("text" not in json.dumps(e.details) for e in batches)

    again = run_retention(store, policy, now=later)
    assert all(c.deleted == 0 for c in again.classes.values())
    assert audit.verify(store).ok


def test_account_hold_keeps_its_items_and_identities(store: Store) -> None:
    now = utcnow()
    batch = [make_item(i) for i in range(4)]  # two posting accounts (keyed by native id), one channel
    store.add_items(batch)
    # The investigator knows the handle; the hold finds the account stored under its native id.
    hold = add_hold(store, "ivy", "account", f"telegram:{HANDLES[0]}", "proceedings REF-2")
    assert hold.target_id.startswith("telegram:psa_")
    report = run_retention(store, RetentionPolicy(), now=now + timedelta(days=365))
    assert report.classes["raw_items"].held == 2 and report.classes["raw_items"].deleted == 2
    assert _ids(store) == {batch[0].id, batch[2].id}
    got = store.get_item(batch[0].id)
    assert got is not None and got.account is not None and got.account.key == hold.target_id
    # The held account and the channel stay; the other account and its vault entries went.
    assert _count(store, accounts) == 2 and _count(store, identity_vault) > 0
    lift_hold(store, "ivy", [], hold.id)
    run_retention(store, RetentionPolicy(), now=now + timedelta(days=365))
    assert _count(store, accounts) == 0 and _count(store, identity_vault) == 0


def test_hold_on_channel_keeps_everything_it_carried(store: Store) -> None:
    now = utcnow()
    batch = [make_item(i) for i in range(4)]
    store.add_items(batch)
    hold = add_hold(store, "ivy", "account", "telegram:example_channel_main", "proceedings REF-3")
    report = run_retention(store, RetentionPolicy(), now=now + timedelta(days=365))
    assert report.classes["raw_items"].deleted == 0 and report.classes["raw_items"].held == 4
    assert _ids(store) == {i.id for i in batch}
    with pytest.raises(PermissionDenied, match="only ivy or an admin"):
        lift_hold(store, "mallory", [], hold.id)
    lift_hold(store, "ivy", [], hold.id)
    report = run_retention(store, RetentionPolicy(), now=now + timedelta(days=365))
    assert report.classes["raw_items"].deleted == 4 and _count(store, accounts) == 0


def test_case_hold_keeps_the_case_and_its_item(store: Store) -> None:
    now = utcnow()
    case_id = open_case(store, make_item(5), "dismissed")
    set_state(store, case_id, "dismissed", now - timedelta(days=400))
    add_hold(store, "ivy", "case", str(case_id), "proceedings REF-4")
    report = run_retention(store, RetentionPolicy(), now=now)
    assert report.classes["dismissed_cases"].held == 1 and report.classes["dismissed_cases"].deleted == 0
    assert store.get_case(case_id) is not None and store.get_item(make_item(5).id) is not None


def test_policy_from_config_and_the_audit_log_is_never_deleted(home: Path) -> None:
    (home / "config.toml").write_text("[retention]\nraw_items_days = 7\nbatch_size = 50\n", "utf-8")
    policy = RetentionPolicy.from_config(Config.load(home))
    assert (policy.raw_items_days, policy.batch_size, policy.dismissed_cases_days) == (7, 50, 180)
    assert policy.to_dict()["audit_log_days"] is None
    (home / "config.toml").write_text("[retention]\naudit_log_days = 30\n", "utf-8")
    with pytest.raises(ConfigError, match="never deleted"):
        RetentionPolicy.from_config(Config.load(home))
    (home / "config.toml").write_text("[retention]\nraw_items_days = -1\n", "utf-8")
    with pytest.raises(ConfigError, match="raw_items_days"):
        RetentionPolicy.from_config(Config.load(home))


def test_cli_retention_run_with_moved_clock(
    home: Path, config: Config, store: Store, database_url: str
) -> None:
    cli_store = open_store(config, url=database_url)
    try:
        cli_store.add_items([make_item(i) for i in range(3)])
        later = (utcnow() + timedelta(days=100)).isoformat()
        dry = cli(["retention", "run", "--dry-run", "--now", later, "--json"], home, database_url)
        assert dry.exit_code == 0, dry.output
        assert json.loads(dry.stdout)["classes"]["raw_items"]["due"] == 3
        assert len(list(cli_store.iter_items())) == 3
        real = cli(["retention", "run", "--now", later, "--json"], home, database_url)
        assert json.loads(real.stdout)["classes"]["raw_items"]["deleted"] == 3
        assert list(cli_store.iter_items()) == []
        bad = cli(["retention", "run", "--now", "yesterday"], home, database_url)
        assert bad.exit_code != 0 and "ISO 8601" in str(bad.exception)
    finally:
        cli_store.close()


def test_one_hold_keeps_the_case_its_item_and_its_evidence(store: Store, config: Config) -> None:
    """A case hold is the one legal hold: the case, its item and its evidence stay while it is in force."""
    from vigil.evidence.retention import EvidenceRetention, mark_removed_in
    from vigil.evidence.tables import evidence_captures

    now = utcnow()
    case_id = open_case(store, make_item(6), "dismissed")
    set_state(store, case_id, "dismissed", now - timedelta(days=400))
    with store.write() as conn:
        conn.execute(
            evidence_captures.insert().values(
                case_id=case_id,
                url="https://example.net/posts/6",
                captured_at=now - timedelta(days=400),
                captured_by="t",
                software="vigil/test",
                warc_sha256="d" * 64,
            )
        )
        mark_removed_in(conn, config, case_id, now - timedelta(days=300))
    hold = add_hold(store, "ivy", "case", str(case_id), "proceedings REF-5")
    hooks = [EvidenceRetention(config)]
    report = run_retention(store, RetentionPolicy(), now=now, hooks=hooks)
    assert report.classes["dismissed_cases"].held == 1 and store.get_case(case_id) is not None
    assert report.classes["evidence"].held == 1 and report.classes["evidence"].deleted == 0
    lift_hold(store, "ivy", [], hold.id)
    report = run_retention(store, RetentionPolicy(), now=now, hooks=hooks)
    assert report.classes["evidence"].deleted == 1 and report.classes["dismissed_cases"].deleted == 1
    assert store.get_case(case_id) is None
