"""SLA timers. Each case has a review clock set by its severity queue (and, if configured, a four-eyes
approval clock while proposed) -- the unit's own SLAs, settings in ``[workflow.sla]``
(``vigil.workflow.sla_config``) -- and legal clocks once it is sent, which are constants:

- a removal order must be acted on within one hour of receipt (Reg. 2021/784 Art. 3(3));
- a cross-border order may be scrutinised: request within 48 hours, decision within 72 hours (Art. 4);
- a complaint must be answered within two weeks (Art. 10).

Deadlines are computed, never stored: a clock's start comes from the case (``opened_at``) or from what
transitions recorded in its meta (``sent_at``, ``state_since``, ``complaint_at``), its length from the
settings. So the queue can show every countdown without reading the event history, and a changed setting
applies at once, and alike, to every open case wherever a deadline shows (queue, case, API, tabs,
dashboard). ``overdue_clause`` is the same rule as SQL, for counting and filtering in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_

from vigil.core.durations import format_duration
from vigil.core.model import Case, CaseState, Severity
from vigil.store.schema import cases
from vigil.workflow.sla_config import SlaSettings

# Legal clocks (Regulation (EU) 2021/784): fixed by law, not settings.
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


def deadlines(case: Case, sla: SlaSettings) -> list[Deadline]:
    """The clocks that run for a case in its current state, most urgent first."""
    out: list[Deadline] = []
    state, meta = CaseState(case.state), case.meta
    if state in _REVIEW_STATES:
        length = sla.review[Severity(case.severity)]
        out.append(Deadline(f"review ({case.severity}): {format_duration(length)}", case.opened_at + length))
    proposed = _when(meta, "state_since")
    if sla.approval and proposed and state == CaseState.PROPOSED:
        out.append(Deadline(f"four-eyes approval: {format_duration(sla.approval)}", proposed + sla.approval))
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


def next_deadline(case: Case, sla: SlaSettings) -> Deadline | None:
    found = deadlines(case, sla)
    return found[0] if found else None


def _meta_before(key: str, when: datetime) -> ColumnElement[bool]:
    """``meta[key]`` is a time before ``when``. Transitions write these as ISO 8601 in UTC
    (``utcnow().isoformat()``), which sort as text in time order."""
    value = cases.c.meta[key].as_string()
    return and_(value.is_not(None), value != "", value < when.isoformat())


def overdue_clause(sla: SlaSettings, now: datetime) -> ColumnElement[bool]:
    """SQL true for a case with at least one clock past due at ``now``: ``deadlines`` as a WHERE clause
    (a case is overdue when its most urgent clock is, i.e. when any is)."""
    review = or_(
        *(
            and_(cases.c.severity == str(sev), cases.c.opened_at < now - length)
            for sev, length in sla.review.items()
        )
    )
    parts = [and_(cases.c.state.in_([str(s) for s in _REVIEW_STATES]), review)]
    if sla.approval:
        parts.append(
            and_(cases.c.state == str(CaseState.PROPOSED), _meta_before("state_since", now - sla.approval))
        )
    parts.append(
        and_(
            cases.c.state.in_([str(s) for s in _DELIVERY_STATES]),
            cases.c.meta["decision"].as_string() == "removal_order",
            _meta_before("sent_at", now - REMOVAL_ORDER),
        )
    )
    parts.append(
        and_(
            cases.c.state.in_([str(s) for s in _AFTER_SENT]),
            cases.c.meta["cross_border"].as_boolean() == True,  # noqa: E712 -- SQL, not Python
            _meta_before("sent_at", now - SCRUTINY_REQUEST),
        )
    )
    parts.append(and_(cases.c.state != str(CaseState.CLOSED), _meta_before("complaint_at", now - COMPLAINT)))
    return or_(false(), *parts)
