"""Retention: six months from removal, legal holds that prevent deletion, a purge that records what it did;
reads of evidence are audited and hash-checked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.evidence_helpers import make_case
from vigil.config import Config
from vigil.errors import UsageError
from vigil.evidence.blobs import BlobStore, EvidenceIntegrityError
from vigil.evidence.capture import blob_store
from vigil.evidence.custody import read_part
from vigil.evidence.retention import mark_removed_in, place_hold, purge_due, release_hold
from vigil.evidence.tables import evidence_captures, evidence_deletions, evidence_parts
from vigil.store import Store
from vigil.workflow import audit

REMOVED = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


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
    assert purge_due(store, config, now=REMOVED + timedelta(days=150)).deleted == []
    hold = place_hold(store, "dpo", "court request 12/2026", case_id=case_b)
    summary = purge_due(store, config, now=REMOVED + timedelta(days=184))
    assert summary.deleted == [cap_a] and summary.held == [cap_b]
    from hashlib import sha256

    assert not blobs.exists(sha256(b"only-in-a").hexdigest())
    assert blobs.exists(sha256(b"shared").hexdigest()), "a blob still used by a held capture stays"
    with store.read() as conn:
        log = conn.execute(select(evidence_deletions)).mappings().one()
    assert log["capture_id"] == cap_a and sha256(b"only-in-a").hexdigest() in log["blobs"]
    assert any(e.action == "evidence.delete" for e in audit.entries(store))
    release_hold(store, hold, "dpo")
    assert purge_due(store, config, now=REMOVED + timedelta(days=185)).deleted == [cap_b]
    assert not blobs.exists(sha256(b"shared").hexdigest())
    with pytest.raises(UsageError):
        release_hold(store, hold, "dpo")
    with pytest.raises(UsageError):
        place_hold(store, "dpo", "x", case_id=case_a, capture_id=cap_a)
    with pytest.raises(UsageError):
        place_hold(store, "dpo", "  ", case_id=case_a)
    assert audit.verify(store).ok


def test_capture_hold_and_configurable_period(store: Store, config: Config) -> None:
    config.extra["evidence_retention_days"] = 30
    case_id = make_case(store, "https://example.test/c")
    cap = _fake_capture(store, config, case_id, [b"c1"])
    with store.write() as conn:
        mark_removed_in(conn, config, case_id, REMOVED)
    place_hold(store, "legal", "investigation", capture_id=cap)
    assert purge_due(store, config, now=REMOVED + timedelta(days=31)).held == [cap]


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


def test_hold_and_purge_commands(home: Path, config: Config) -> None:
    from tests.evidence_helpers import run_cli

    store = Store.open(config)
    case_id = make_case(store, "https://example.test/e")
    cap = _fake_capture(store, config, case_id, [b"e1"])
    with store.write() as conn:
        mark_removed_in(conn, config, case_id, REMOVED)
    held = run_cli(["evidence", "hold", "--case", str(case_id), "--reason", "prosecutor request"], home)
    assert held.returncode == 0, held.stderr
    later = (REMOVED + timedelta(days=200)).isoformat()
    first = run_cli(["evidence", "purge", "--now", later], home)
    assert first.returncode == 0 and json.loads(first.stdout)["held"] == [cap]
    hold_id = str(json.loads(held.stdout)["hold"])
    assert run_cli(["evidence", "release", hold_id], home).returncode == 0
    second = run_cli(["evidence", "purge", "--now", later], home)
    assert json.loads(second.stdout)["deleted"] == [cap]
    assert run_cli(["evidence", "purge", "--now", "next tuesday"], home).returncode == 2
    assert run_cli(["evidence", "hold", "--reason", "x"], home).returncode == 2
    assert run_cli(["referral", "reply", "1", "--kind", "annex_ii", "--data", "{oops"], home).returncode == 2
    store.close()
