"""Moves of a case made by evidence and referral.

``move_in`` is ``transition_in`` with the checks already run by ``preflight`` before the caller opened its
transaction (roles, the state machine and the four-eyes rule are checked again inside it);
``move_or_note`` makes a move no check gates where the workflow allows it, else only notes it
(``vigil.audit.history.note_in``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from vigil.audit.history import note_in
from vigil.core.model import Case, CaseState
from vigil.errors import VigilError
from vigil.store.schema import cases
from vigil.workflow.states import TRANSITIONS
from vigil.workflow.transition import transition_in


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
