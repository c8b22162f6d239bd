"""A case's history lines that leave its state as it is (evidence captured, a reply recorded, a delivery
that failed): ``note_in``, with its audit entry in the same transaction; and ``history``, the lines read
back. A change of state is the workflow's (``vigil.workflow.moves``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from vigil.audit.log import append_in
from vigil.core.model import utcnow
from vigil.errors import VigilError
from vigil.store import Store
from vigil.store.schema import case_events, cases


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


def history(store: Store, case_id: int) -> list[dict[str, Any]]:
    with store.read() as conn:
        rows = conn.execute(
            select(case_events).where(case_events.c.case_id == case_id).order_by(case_events.c.id)
        ).mappings()
        return [{**dict(r), "at": r["at"].isoformat(), "meta": dict(r["meta"] or {})} for r in rows]
