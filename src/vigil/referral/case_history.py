"""How evidence and referral add to a case's history.

A change of state goes through the workflow (``vigil.workflow.transition``): ``move_in`` is
``transition_in`` with the checks already run by ``preflight`` before the caller opened its transaction
(roles, the state machine and the four-eyes rule are checked again inside it). ``note_in`` adds a line to
the history that leaves the state as it is (evidence captured, a reply recorded, a delivery that failed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from vigil.core.model import Case, CaseState, utcnow
from vigil.errors import VigilError
from vigil.store import Store
from vigil.store.schema import case_events, cases
from vigil.workflow.audit import append_in
from vigil.workflow.states import TRANSITIONS
from vigil.workflow.transition import transition_in


def note_in(
    conn: Connection,
    case_id: int,
    actor: str,
    reason: str,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Inside an open write transaction: a history line and an audit entry; the state does not change."""
    current = conn.execute(select(cases.c.state).where(cases.c.id == case_id)).scalar()
    if current is None:
        raise VigilError(f"case {case_id} does not exist")
    when = at or utcnow()
    conn.execute(
        case_events.insert().values(
            case_id=case_id,
            from_state=current,
            to_state=current,
            actor=actor,
            reason=reason,
            at=when,
            meta=details or {},
        )
    )
    conn.execute(cases.update().where(cases.c.id == case_id).values(updated_at=when))
    append_in(
        conn, actor, "case.note", "case", case_id, {"state": current, "reason": reason, **(details or {})}
    )


def move_in(
    conn: Connection,
    case_id: int,
    to: str | CaseState,
    actor: str,
    role: str,
    reason: str,
    details: dict[str, Any] | None = None,
) -> Case:
    """Inside an open write transaction, after ``preflight`` cleared the same move: the workflow's move."""
    return transition_in(conn, case_id, to, actor, role, reason, checks=(), **(details or {}))


def history(store: Store, case_id: int) -> list[dict[str, Any]]:
    with store.read() as conn:
        rows = conn.execute(
            select(case_events).where(case_events.c.case_id == case_id).order_by(case_events.c.id)
        ).mappings()
        return [{**dict(r), "at": r["at"].isoformat(), "meta": dict(r["meta"] or {})} for r in rows]


def move_or_note(
    conn: Connection,
    case_id: int,
    to: CaseState,
    actor: str,
    role: str,
    reason: str,
    details: dict[str, Any],
    at: datetime,
) -> None:
    """For moves no check gates (a reply, a re-check): make the move where the workflow has it from the
    case's state for this role; else only note what happened (a reply to a case already acknowledged, or
    recorded by someone whose role does not make that move: the record is kept, the state left alone)."""
    state = conn.execute(select(cases.c.state).where(cases.c.id == case_id)).scalar()
    if state is None:
        raise VigilError(f"case {case_id} does not exist")
    if role in TRANSITIONS.get((CaseState(state), to), frozenset()):
        move_in(conn, case_id, to, actor, role, reason, details)
    else:
        note_in(conn, case_id, actor, reason, details, at=at)
