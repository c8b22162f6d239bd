"""The one place where referral and evidence move a case's state or add to its history.

``record`` writes a ``case_events`` row, updates ``cases.state``/``updated_at`` and appends to the audit log
in the same transaction. When the workflow's transition function lands, this is the function to redirect.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from vigil.core.model import utcnow
from vigil.errors import VigilError
from vigil.store import Store
from vigil.store.schema import case_events, cases
from vigil.workflow.audit import append_in


def record_in(
    conn: Connection,
    case_id: int,
    to_state: str | None,
    actor: str,
    reason: str,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Inside an open write transaction. ``to_state=None`` adds history without a change of state."""
    current = conn.execute(select(cases.c.state).where(cases.c.id == case_id)).scalar()
    if current is None:
        raise VigilError(f"case {case_id} does not exist")
    when = at or utcnow()
    new_state = to_state or current
    conn.execute(
        case_events.insert().values(
            case_id=case_id,
            from_state=current,
            to_state=new_state,
            actor=actor,
            reason=reason,
            at=when,
            meta=details or {},
        )
    )
    conn.execute(cases.update().where(cases.c.id == case_id).values(state=new_state, updated_at=when))
    append_in(
        conn,
        actor,
        "case.transition" if new_state != current else "case.note",
        "case",
        case_id,
        {"from": current, "to": new_state, "reason": reason, **(details or {})},
    )


def record(
    store: Store,
    case_id: int,
    to_state: str | None,
    actor: str,
    reason: str,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    with store.write() as conn:
        record_in(conn, case_id, to_state, actor, reason, details, at)


def history(store: Store, case_id: int) -> list[dict[str, Any]]:
    with store.read() as conn:
        rows = conn.execute(
            select(case_events).where(case_events.c.case_id == case_id).order_by(case_events.c.id)
        ).mappings()
        return [{**dict(r), "at": r["at"].isoformat(), "meta": dict(r["meta"] or {})} for r in rows]
