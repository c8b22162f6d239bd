"""The queue's tabs: named views of the cases, each a SQL condition, and their counts in one query.

| tab | cases |
|---|---|
| ``all`` | every case |
| ``new`` | state new |
| ``in_review`` | triage, confirmed or decision |
| ``proposed`` | proposed: waiting for a four-eyes approval |
| ``approval`` | proposed, and the viewer may approve it (an approver role, and not its proposer) |
| ``overdue`` | a clock past due (``sla.overdue_clause``: the configured SLAs and the legal clocks) |
| ``mine`` | not closed, and the viewer moved it at least once |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, select, true
from sqlalchemy import false as sql_false

from vigil.core.model import CaseState, Severity
from vigil.store import Store
from vigil.store.schema import case_events, cases
from vigil.workflow.errors import WorkflowError
from vigil.workflow.sla import overdue_clause
from vigil.workflow.sla_config import SlaSettings
from vigil.workflow.states import APPROVERS
from vigil.workflow.transition import moved_into

TABS: dict[str, str] = {
    "all": "All",
    "new": "New",
    "in_review": "In review",
    "proposed": "Proposed",
    "approval": "Awaiting your approval",
    "overdue": "Overdue",
    "mine": "Mine",
}
IN_REVIEW = (CaseState.TRIAGE, CaseState.CONFIRMED, CaseState.DECISION)


@dataclass(slots=True, frozen=True)
class Viewer:
    """Who looks at the queue, and when: the tabs ``approval``, ``mine`` and ``overdue`` depend on it."""

    user: str
    role: str
    sla: SlaSettings
    now: datetime


def tab_clause(tab: str, viewer: Viewer) -> ColumnElement[bool]:
    if tab not in TABS:
        raise WorkflowError(f"unknown tab {tab[:40]!r} (one of {', '.join(TABS)})")
    if tab == "new":
        return cases.c.state == str(CaseState.NEW)
    if tab == "in_review":
        return cases.c.state.in_([str(s) for s in IN_REVIEW])
    if tab == "proposed":
        return cases.c.state == str(CaseState.PROPOSED)
    if tab == "approval":
        if viewer.role not in APPROVERS:
            return sql_false()
        return and_(cases.c.state == str(CaseState.PROPOSED), cases.c.id.not_in(_proposed_by(viewer.user)))
    if tab == "overdue":
        return overdue_clause(viewer.sla, viewer.now)
    if tab == "mine":
        moved = select(case_events.c.case_id).where(case_events.c.actor == viewer.user)
        return and_(cases.c.state != str(CaseState.CLOSED), cases.c.id.in_(moved))
    return true()


def _proposed_by(user: str) -> Select[tuple[int]]:
    """Cases whose last move into ``proposed`` was ``user``'s (the four-eyes rule's proposer, as in
    ``transition``). Not correlated with ``cases``: the database runs it once, not once per row."""
    mine, later = case_events.alias("mine"), case_events.alias("later")
    return select(mine.c.case_id).where(
        mine.c.actor == user,
        moved_into(mine, CaseState.PROPOSED),
        ~exists().where(
            later.c.case_id == mine.c.case_id, later.c.id > mine.c.id, moved_into(later, CaseState.PROPOSED)
        ),
    )


def tab_counts(store: Store, viewer: Viewer) -> dict[str, int]:
    """How many cases each tab holds, in one query (one pass over ``cases``)."""
    columns = [func.count(case((tab_clause(tab, viewer), 1))).label(tab) for tab in TABS]
    with store.read() as conn:
        row = conn.execute(select(*columns).select_from(cases)).mappings().one()
    return {tab: int(row[tab]) for tab in TABS}


def overdue_per_queue(store: Store, viewer: Viewer) -> dict[str, int]:
    """Overdue cases per severity queue, every queue listed (the dashboard's chart)."""
    query = (
        select(cases.c.severity, func.count())
        .where(overdue_clause(viewer.sla, viewer.now))
        .group_by(cases.c.severity)
    )
    with store.read() as conn:
        found = {str(sev): int(n) for sev, n in conn.execute(query)}
    return {str(s): found.get(str(s), 0) for s in Severity}
