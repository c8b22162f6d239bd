"""Retention of evidence: six months from removal, legal holds (the one hold concept of vigil) that prevent
deletion, deletion by the one retention job that records what it did; reads of evidence are audited and
hash-checked; old evidence holds migrate into legal holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from tests.evidence_helpers import make_case
from vigil.audit import log as audit
from vigil.boot import open_store
from vigil.config import Config
from vigil.errors import ConfigError, UsageError
from vigil.evidence.blobs import BlobStore, EvidenceIntegrityError
from vigil.evidence.capture import blob_store
from vigil.evidence.custody import read_part
from vigil.evidence.retention import EvidenceRetention, mark_removed_in
from vigil.evidence.tables import evidence_captures, evidence_deletions, evidence_parts
from vigil.privacy.holds import add_hold, lift_hold, list_holds
from vigil.privacy.retention import ClassResult, run_retention
from vigil.privacy.settings import RetentionPolicy
from vigil.store import Store

REMOVED = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def _purge(store: Store, config: Config, now: datetime, batch: int = 500) -> ClassResult:
    policy = RetentionPolicy.from_config(config)
    policy.batch_size = batch
    report = run_retention(store, policy, now=now, hooks=[EvidenceRetention(config)])
    return report.classes["evidence"]


def _deleted(store: Store) -> set[int]:
    with store.read() as conn:
        query = select(evidence_captures.c.id).where(evidence_captures.c.deleted_at.is_not(None))
        return set(conn.execute(query).scalars())


def _fake_capture(store: Store, config: Config, case_id: int, payloads: list[bytes]) -> int:
    """A capture row with parts as capture_url stores them (no network: retention is under test)."""
    blobs = blob_store(config)
    shas = [blobs.put(p) for p in payloads]
    with store.write() as conn:
        cid = conn.execute(
            evidence_captures.insert()
            .values(
                case_id=case_id,
                url="https://example.test/x",
                captured_at=REMOVED - timedelta(days=1),
                captured_by="t",
                software="vigil/test",
                warc_sha256=shas[0],
                details={},
            )
            .returning(evidence_captures.c.id)
        ).scalar_one()
        conn.execute(
            evidence_parts.insert(),
            [
                {"capture_id": cid, "role": "media", "name": f"m{i}", "sha256": s, "size": 1}
                for i, s in enumerate(shas)
            ],
        )
    return int(cid)


def test_purge_respects_clock_holds_and_shared_blobs(store: Store, config: Config) -> None:
    case_a = make_case(store, "https://example.test/a")
    case_b = make_case(store, "https://example.test/b")
    cap_a = _fake_capture(store, config, case_a, [b"only-in-a", b"shared"])
    cap_b = _fake_capture(store, config, case_b, [b"only-in-b", b"shared"])
    with store.write() as conn:
        mark_removed_in(conn, config, case_a, REMOVED)
        mark_removed_in(conn, config, case_b, REMOVED)
    blobs = blob_store(config)
    # five months on: nothing is due
    assert _purge(store, config, REMOVED + timedelta(days=150)).due == 0
    hold = add_hold(store, "dpo", "case", str(case_b), "court request 12/2026")
    summary = _purge(store, config, REMOVED + timedelta(days=184))
    assert summary.ids == [str(cap_a)] and summary.deleted == 1 and summary.held == 1
    assert _deleted(store) == {cap_a}
    assert not blobs.exists(sha256(b"only-in-a").hexdigest())
    assert blobs.exists(sha256(b"shared").hexdigest()), "a blob still used by a held capture stays"
    with store.read() as conn:
        log = conn.execute(select(evidence_deletions)).mappings().one()
    assert log["capture_id"] == cap_a and sha256(b"only-in-a").hexdigest() in log["blobs"]
    entries = audit.entries(store, limit=500)
    assert any(e.action == "evidence.delete" and e.target_id == str(cap_a) for e in entries)
    job = [e for e in entries if e.action == "retention.delete" and e.target_id == "evidence"]
    assert [e.details["ids"] for e in job] == [[str(cap_a)]] and "text" not in json.dumps(job[0].details)
    # Run again at the same time: nothing more goes (idempotent).
    assert _purge(store, config, REMOVED + timedelta(days=184)).deleted == 0
    lift_hold(store, "dpo", [], hold.id)
    assert _purge(store, config, REMOVED + timedelta(days=185)).ids == [str(cap_b)]
    assert not blobs.exists(sha256(b"shared").hexdigest())
    with pytest.raises(UsageError):
        lift_hold(store, "dpo", [], hold.id)
    with pytest.raises(UsageError):
        add_hold(store, "dpo", "case", str(case_a), "  ")
    assert audit.verify(store).ok


@pytest.mark.parametrize("batch", [1, 2, 50])
def test_captures_sharing_a_blob_go_together_in_any_batch_size(
    store: Store, config: Config, batch: int
) -> None:
    caps = []
    for n in range(3):
        case_id = make_case(store, f"https://example.test/s{n}")
        caps.append(_fake_capture(store, config, case_id, [b"common", f"own-{n}".encode()]))
        with store.write() as conn:
            mark_removed_in(conn, config, case_id, REMOVED)
    dry_policy = RetentionPolicy(batch_size=batch)
    hook = EvidenceRetention(config)
    dry = run_retention(store, dry_policy, now=REMOVED + timedelta(days=200), dry_run=True, hooks=[hook])
    assert dry.classes["evidence"].due == 3 and _deleted(store) == set()
    done = _purge(store, config, REMOVED + timedelta(days=200), batch)
    assert done.deleted == 3 and _deleted(store) == set(caps)
    blobs = blob_store(config)
    assert not any(blobs.exists(sha256(p).hexdigest()) for p in (b"common", b"own-0", b"own-2"))
    with store.read() as conn:
        recorded = [b for row in conn.execute(select(evidence_deletions.c.blobs)).scalars() for b in row]
    assert sorted(recorded) == sorted(
        {sha256(p).hexdigest() for p in (b"common", b"own-0", b"own-1", b"own-2")}
    )


def test_capture_hold_and_configurable_period(store: Store, config: Config) -> None:
    config.extra["retention"] = {"evidence_after_removal_days": 30}
    case_id = make_case(store, "https://example.test/c")
    cap = _fake_capture(store, config, case_id, [b"c1"])
    with store.write() as conn:
        mark_removed_in(conn, config, case_id, REMOVED)
        retain = conn.execute(select(evidence_captures.c.retain_until)).scalar_one()
    assert retain == REMOVED + timedelta(days=30)
    assert _purge(store, config, REMOVED + timedelta(days=29)).due == 0
    hold = add_hold(store, "legal", "capture", str(cap), "investigation")
    result = _purge(store, config, REMOVED + timedelta(days=31))
    assert (result.deleted, result.held) == (0, 1)
    assert [h.target_type for h in list_holds(store)] == ["capture"]
    lift_hold(store, "legal", [], hold.id)
    assert _purge(store, config, REMOVED + timedelta(days=31)).ids == [str(cap)]
    config.extra["evidence_retention_days"] = 30  # the old key: one policy now, said clearly
    with pytest.raises(ConfigError, match="evidence_after_removal_days"):
        RetentionPolicy.from_config(config)


def test_reads_are_audited_and_checked(tmp_path: Path, store: Store, config: Config) -> None:
    case_id = make_case(store, "https://example.test/d")
    _fake_capture(store, config, case_id, [b"evidence-bytes"])
    from hashlib import sha256

    sha = sha256(b"evidence-bytes").hexdigest()
    assert read_part(store, config, sha, "analyst2", "review") == b"evidence-bytes"
    entry = audit.entries(store, target_type="blob")[0]
    assert entry.actor == "analyst2" and entry.target_id == sha and entry.details == {"purpose": "review"}
    path = blob_store(config).path(sha)
    path.chmod(0o640)
    path.write_bytes(b"tampered")
    with pytest.raises(EvidenceIntegrityError, match="no longer matches"):
        read_part(store, config, sha, "analyst2", "review")
    with pytest.raises(EvidenceIntegrityError):
        BlobStore(tmp_path).get("../../etc/passwd")


def test_one_hold_command_and_one_retention_job(home: Path, config: Config) -> None:
    from tests.evidence_helpers import run_cli
    from tests.workflow_helpers import add_accounts

    store = open_store(config)
    add_accounts(store, ivy="legal")  # lifting a hold acts as an account (its owner)
    case_id = make_case(store, "https://example.test/e")
    cap = _fake_capture(store, config, case_id, [b"e1"])
    with store.write() as conn:
        mark_removed_in(conn, config, case_id, REMOVED)
    held = run_cli(
        ["hold", "add", "case", str(case_id), "--reason", "prosecutor request", "--actor", "ivy"], home
    )
    assert held.returncode == 0, held.stderr
    later = (REMOVED + timedelta(days=200)).isoformat()
    first = run_cli(["retention", "run", "--now", later, "--json"], home)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["classes"]["evidence"] | {"ids": []} == {
        "due": 0,
        "deleted": 0,
        "held": 1,
        "ids": [],
    }
    hold_id = str(json.loads(held.stdout)["id"])
    assert run_cli(["hold", "lift", hold_id, "--actor", "ivy"], home).returncode == 0
    second = run_cli(["retention", "run", "--now", later, "--json"], home)
    assert json.loads(second.stdout)["classes"]["evidence"]["ids"] == [str(cap)]
    register = json.loads(run_cli(["report", "processing", "--json"], home).stdout)
    assert {c["class"]: c["count"] for c in register["classes"]}["evidence"] == 0
    assert run_cli(["retention", "run", "--now", "next tuesday"], home).returncode == 2
    assert run_cli(["evidence", "purge"], home).returncode == 2  # gone: one job deletes evidence
    assert run_cli(["referral", "reply", "1", "--kind", "annex_ii", "--data", "{oops"], home).returncode == 2
    store.close()


def test_old_evidence_holds_become_legal_holds(tmp_path: Path) -> None:
    """The migration moves holds placed before the unification; nothing is lost."""
    from alembic import command
    from sqlalchemy import text

    from vigil.store.migrate import alembic_config, upgrade

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "evidence_0001_tables")
    placed = "2026-01-02 03:04:05.000000"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO evidence_holds (case_id, capture_id, reason, placed_by, placed_at,"
                " released_by, released_at) VALUES (7, NULL, 'court A', 'ivy', :at, NULL, NULL),"
                " (NULL, 12, 'court B', 'lea', :at, 'lea', :at)"
            ),
            {"at": placed},
        )
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT target_type, target_id, owner, reason, lifted_by FROM legal_holds ORDER BY id")
        ).all()
        tables = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars())
    assert [tuple(r) for r in rows] == [
        ("case", "7", "ivy", "court A", None),
        ("capture", "12", "lea", "court B", "lea"),
    ]
    assert "evidence_holds" not in tables and "legal_holds" in tables
    engine.dispose()
