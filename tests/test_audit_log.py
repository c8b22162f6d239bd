"""The audit log's chain holds, and an edit made behind the app's back is reported at the right entry."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from vigil.audit import log as audit
from vigil.audit.log import audit_log
from vigil.store import Store


def test_chain_verifies_and_reports_tampering(store: Store) -> None:
    for n in range(6):
        audit.append(store, f"user{n % 2}", "case.view", "case", n, {"n": n, "text": "نص"})
    result = audit.verify(store)
    assert result.ok and result.entries == 6
    with store.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == 4).values(actor="someone-else"))
    broken = audit.verify(store)
    assert not broken.ok and broken.first_broken == 4 and "content" in broken.reason


def test_deleted_entry_is_reported(store: Store) -> None:
    for n in range(4):
        audit.append(store, "u", "login", details={"n": n})
    with store.engine.begin() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.id == 2))
    broken = audit.verify(store)
    # The entry after the deleted one no longer links to the entry before it (ids alone may skip).
    assert not broken.ok and broken.first_broken == 3 and "link" in broken.reason


def test_entries_filter_by_target(store: Store) -> None:
    audit.append(store, "u", "case.view", "case", 1)
    audit.append(store, "u", "case.view", "case", 2)
    assert [e.target_id for e in audit.entries(store, target_type="case", target_id="2")] == ["2"]


def _append(store: Store, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        audit.append(store, "u", "case.view", "case", i, {"n": i})


def test_page_verification_starts_at_the_last_checkpoint(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The /audit page re-verified the whole chain on every view (linear in the log): it now recomputes
    only what came after the last verified entry, and checks that entry still holds its hash."""
    _append(store, 30)
    full = audit.verify(store)
    assert full.ok and full.entries == 30 and full.since_entry is None
    _append(store, 5, 30)
    hashed: list[str] = []
    real = audit.row_hash

    def counting(row: Any, prev: str) -> str:
        hashed.append(str(row["action"]))
        return real(row, prev)

    monkeypatch.setattr(audit, "row_hash", counting)
    since = audit.verify_since_checkpoint(store)
    assert since.ok and since.entries == 35 and since.since_entry == 30
    assert len(hashed) == 5  # only the entries after the checkpoint were recomputed
    again = audit.verify_since_checkpoint(store)
    assert again.ok and again.entries == 35 and again.since_entry == 35


def test_incremental_verification_reports_tampering_after_and_at_the_checkpoint(store: Store) -> None:
    _append(store, 10)
    assert audit.verify(store).ok
    _append(store, 4, 10)
    with store.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == 12).values(actor="someone-else"))
    after = audit.verify_since_checkpoint(store)
    assert not after.ok and after.first_broken == 12
    with store.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == 12).values(actor="u"))
        conn.execute(update(audit_log).where(audit_log.c.id == 10).values(hash="0" * 64))
    at = audit.verify_since_checkpoint(store)
    assert not at.ok and at.first_broken == 10 and "changed" in at.reason


def test_an_edit_before_the_checkpoint_needs_the_full_verification(store: Store) -> None:
    """What the incremental check does not see (documented): a rewrite before the checkpoint that keeps
    the checkpointed entry's hash. ``verify`` recomputes everything and reports it."""
    _append(store, 8)
    assert audit.verify(store).ok
    with store.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == 3).values(actor="someone-else"))
    assert audit.verify_since_checkpoint(store).ok
    broken = audit.verify(store)
    assert not broken.ok and broken.first_broken == 3
