"""The audit log's chain holds, and an edit made behind the app's back is reported at the right entry."""

from __future__ import annotations

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
    assert not broken.ok and broken.first_broken == 2


def test_entries_filter_by_target(store: Store) -> None:
    audit.append(store, "u", "case.view", "case", 1)
    audit.append(store, "u", "case.view", "case", 2)
    assert [e.target_id for e in audit.entries(store, target_type="case", target_id="2")] == ["2"]
