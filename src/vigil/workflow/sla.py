"""SLA timers. Each case has a review clock set by its severity queue, and legal clocks once it is sent:

- a removal order must be acted on within one hour of receipt (Reg. 2021/784 Art. 3(3));
- a cross-border order may be scrutinised: request within 48 hours, decision within 72 hours (Art. 4);
- a complaint must be answered within two weeks (Art. 10).

A clock's start time comes from the case (``opened_at``) or from what transitions recorded in its meta
(``sent_at``, ``complaint_at``), so the queue can show every countdown without reading the event history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from vigil.core.model import Case, CaseState, Severity

# How long each severity queue gives a reviewer from detection to an approved decision.
REVIEW_SLA: dict[Severity, timedelta] = {
    Severity.THREAT_TO_LIFE: timedelta(minutes=30),
    Severity.LIVE_ATTACK: timedelta(hours=1),
    Severity.OFFICIAL_RELEASE: timedelta(hours=4),
    Severity.INSTRUCTIONAL: timedelta(hours=24),
    Severity.OTHER: timedelta(hours=72),
}
QUEUE_ORDER: tuple[Severity, ...] = tuple(REVIEW_SLA)

REMOVAL_ORDER = timedelta(hours=1)
SCRUTINY_REQUEST = timedelta(hours=48)
SCRUTINY_DECISION = timedelta(hours=72)
COMPLAINT = timedelta(weeks=2)

_REVIEW_STATES = frozenset(
    {
        CaseState.NEW,
        CaseState.TRIAGE,
        CaseState.CONFIRMED,
        CaseState.DECISION,
        CaseState.PROPOSED,
    }
)
_DELIVERY_STATES = frozenset({CaseState.SENT, CaseState.ACKNOWLEDGED})
_AFTER_SENT = _DELIVERY_STATES | {
    CaseState.REMOVED,
    CaseState.REFUSED,
    CaseState.NO_RESPONSE,
    CaseState.RECHECK,
}


@dataclass(slots=True, frozen=True)
class Deadline:
    name: str
    due: datetime

    def seconds_left(self, now: datetime) -> float:
        return (self.due - now).total_seconds()

    def to_dict(self, now: datetime) -> dict[str, Any]:
        left = self.seconds_left(now)
        return {
            "name": self.name,
            "due": self.due.isoformat(),
            "seconds_left": int(left),
            "overdue": left < 0,
        }


def _when(meta: dict[str, Any], key: str) -> datetime | None:
    value = meta.get(key)
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def deadlines(case: Case) -> list[Deadline]:
    """The clocks that run for a case in its current state, most urgent first."""
    out: list[Deadline] = []
    state, meta = CaseState(case.state), case.meta
    if state in _REVIEW_STATES:
        out.append(
            Deadline(f"review ({case.severity})", case.opened_at + REVIEW_SLA[Severity(case.severity)])
        )
    sent = _when(meta, "sent_at")
    if sent and state in _DELIVERY_STATES and meta.get("decision") == "removal_order":
        out.append(Deadline("removal order: 1 hour", sent + REMOVAL_ORDER))
    if sent and state in _AFTER_SENT and meta.get("cross_border"):
        out.append(Deadline("cross-border scrutiny request: 48 h", sent + SCRUTINY_REQUEST))
        out.append(Deadline("cross-border scrutiny decision: 72 h", sent + SCRUTINY_DECISION))
    complaint = _when(meta, "complaint_at")
    if complaint and state != CaseState.CLOSED:
        out.append(Deadline("complaint answer: 2 weeks", complaint + COMPLAINT))
    return sorted(out, key=lambda d: d.due)


def next_deadline(case: Case) -> Deadline | None:
    found = deadlines(case)
    return found[0] if found else None
