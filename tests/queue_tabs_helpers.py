"""A seeded queue for the tab and SLA tests: eleven cases, one or more in each tab, some overdue only
because of the configured SLAs (with the default lengths they would not be)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from tests.workflow_helpers import seed_case
from vigil.core.model import Severity, utcnow
from vigil.store import Store
from vigil.store.schema import cases
from vigil.workflow.transition import transition

# Shorter than the defaults (official_release 4 h, threat_to_life 30 min), plus a four-eyes clock.
SLA_TOML = """
[workflow.sla]
approval = "1h"

[workflow.sla.review]
official_release = "2h"
threat_to_life = "10m"
"""
TO_PROPOSED: list[tuple[str, dict[str, Any]]] = [
    ("triage", {}),
    ("confirmed", {}),
    ("decision", {"decision": "removal_order"}),
    ("proposed", {}),
]


@dataclass(slots=True)
class Seeded:
    ids: dict[str, int]

    def __getitem__(self, name: str) -> int:
        return self.ids[name]


def _move(store: Store, case_id: int, moves: list[tuple[str, dict[str, Any]]], actor: str, role: str) -> None:
    for to, details in moves:
        transition(store, case_id, to, actor, role, f"test move to {to}", checks=(), **details)


def _age(store: Store, case_id: int, opened: timedelta | None = None, **meta_ago: timedelta) -> None:
    """Backdate a case's opening and the times its transitions recorded (``sent_at``, ``state_since``)."""
    case = store.get_case(case_id)
    assert case is not None
    meta = dict(case.meta)
    for key, ago in meta_ago.items():
        meta[key] = (utcnow() - ago).isoformat()
    values: dict[str, Any] = {"meta": meta}
    if opened is not None:
        values["opened_at"] = utcnow() - opened
    with store.write() as conn:
        conn.execute(update(cases).where(cases.c.id == case_id).values(**values))


def seed_tabs(store: Store) -> Seeded:
    """Users ``ana`` (analyst) and ``vera`` (verifier) must exist (``make_users``)."""
    rel, ttl = Severity.OFFICIAL_RELEASE, Severity.THREAT_TO_LIFE
    ids = {
        "new_fresh": seed_case(store, 101, rel),
        "new_late": seed_case(store, 102, rel),  # 3 h old: overdue at 2 h, not at the default 4 h
        "ttl_late": seed_case(store, 103, ttl),  # 20 min old: overdue at 10 min, not at the default 30
        "other_old": seed_case(store, 104, Severity.OTHER),  # 50 h old: within the default 72 h
        "triage": seed_case(store, 105, rel),
        "confirmed": seed_case(store, 106, rel),
        "decision_vera": seed_case(store, 107, rel),
        "proposed_ana": seed_case(store, 108, rel),
        "proposed_vera": seed_case(store, 109, rel),  # proposed 2 h ago: past the 1 h approval clock
        "sent_late": seed_case(store, 110, rel),  # a removal order sent 2 h ago: past the legal hour
        "closed": seed_case(store, 111, rel),
    }
    _age(store, ids["new_late"], opened=timedelta(hours=3))
    _age(store, ids["ttl_late"], opened=timedelta(minutes=20))
    _age(store, ids["other_old"], opened=timedelta(hours=50))
    _move(store, ids["triage"], TO_PROPOSED[:1], "ana", "analyst")
    _move(store, ids["confirmed"], TO_PROPOSED[:2], "ana", "analyst")
    _move(store, ids["decision_vera"], TO_PROPOSED[:3], "vera", "verifier")
    _move(store, ids["proposed_ana"], TO_PROPOSED, "ana", "analyst")
    _move(store, ids["proposed_vera"], TO_PROPOSED, "vera", "verifier")
    _age(store, ids["proposed_vera"], state_since=timedelta(hours=2))
    _move(store, ids["sent_late"], TO_PROPOSED, "ana", "analyst")
    _move(store, ids["sent_late"], [("approved", {})], "vera", "verifier")
    _move(store, ids["sent_late"], [("sent", {})], "ana", "analyst")
    _age(store, ids["sent_late"], sent_at=timedelta(hours=2))
    _move(store, ids["closed"], [("dismissed", {}), ("closed", {})], "ana", "analyst")
    _age(store, ids["closed"], opened=timedelta(days=5))
    return Seeded(ids)


# Worked out by hand from the list above, for each viewer.
EXPECTED_VERA = {
    "all": 11,
    "new": 4,  # new_fresh, new_late, ttl_late, other_old
    "in_review": 3,  # triage, confirmed, decision_vera
    "proposed": 2,
    "approval": 1,  # proposed_ana (proposed_vera is her own)
    "overdue": 4,  # new_late, ttl_late, proposed_vera, sent_late
    "mine": 3,  # decision_vera, proposed_vera, sent_late (she approved it)
}
EXPECTED_ANA = {**EXPECTED_VERA, "approval": 0, "mine": 4}  # triage, confirmed, proposed_ana, sent_late
OVERDUE = {"new_late", "ttl_late", "proposed_vera", "sent_late"}
