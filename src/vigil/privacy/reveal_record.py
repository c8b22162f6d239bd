"""The clear text of one audit entry or one line of a case's history, which the audit and history views
show masked (``vigil.privacy.views``): staff type identifiers into reasons, notes and justifications.

The same rules as revealing a pseudonym (``vigil.privacy.reveal``): a reason code, a justification of at
least ten characters, and a role in ``[privacy] reveal_roles`` or a personal grant. Each reveal is audited
as ``privacy.reveal`` with the record it opened (target ``audit_log`` or ``case_event``), the reason and
the expiry, never the clear text; each refusal as ``privacy.reveal_refused``. Nothing stored is changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from vigil.audit.log import append, append_in, audit_log, details_of
from vigil.core.model import utcnow
from vigil.privacy.reveal import ACTION, REASON_CODES, REFUSED, RevealRefused, reason_refusal, settings_of
from vigil.privacy.settings import PrivacySettings
from vigil.store import Store
from vigil.store.schema import case_events

RECORDS = ("audit_log", "case_event")


@dataclass(slots=True)
class RevealedRecord:
    record: str  # audit_log | case_event
    id: int
    text: dict[str, Any]  # the clear free text: target_id and details, or reason and meta
    revealed_at: datetime
    expires_at: datetime
    case_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "id": self.id,
            "case_id": self.case_id,
            "text": self.text,
            "revealed_at": self.revealed_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
        }


def reveal_record(
    store: Store,
    actor: str,
    roles: Iterable[str],
    record: str,
    record_id: int,
    reason_code: str,
    reason_text: str,
    settings: PrivacySettings | None = None,
    now: datetime | None = None,
) -> RevealedRecord:
    """The clear free text of audit entry or history line ``record_id``. Raises ``RevealRefused``
    (audited) when it may not: 400 no or bad reason or an unknown kind of record, 403 no right, 404 no
    such record."""
    settings = settings or settings_of(store)
    now = now or utcnow()
    status, why = reason_refusal(store, actor, roles, reason_code, reason_text, settings)
    if not why and record not in RECORDS:
        status, why = 400, f"record must be one of {', '.join(RECORDS)}"
    target = record if record in RECORDS else None
    if why:
        _refuse(store, actor, target, record_id, reason_code, why)
        raise RevealRefused(f"reveal refused: {why}", status)
    expires = now + timedelta(minutes=settings.reveal_ttl_minutes)
    with store.write() as conn:
        if record == "audit_log":
            row = conn.execute(select(audit_log).where(audit_log.c.id == record_id)).mappings().first()
            text = None if row is None else {"target_id": row["target_id"], "details": details_of(row)}
            named = str(row["target_id"] or "") if row and row["target_type"] == "case" else ""
            case_id = int(named) if named.isdigit() else None
        else:
            row = conn.execute(select(case_events).where(case_events.c.id == record_id)).mappings().first()
            text = None if row is None else {"reason": row["reason"], "meta": row["meta"] or {}}
            case_id = int(row["case_id"]) if row else None
        if text is None:
            why = f"no {record} {record_id}"
        else:
            details = {"case": case_id, "reason_code": reason_code, "reason_text": reason_text.strip()}
            append_in(conn, actor, ACTION, record, record_id, {**details, "expires_at": expires.isoformat()})
    if text is None:
        _refuse(store, actor, target, record_id, reason_code, why)
        raise RevealRefused(f"reveal refused: {why}", 404)
    return RevealedRecord(record, record_id, text, now, expires, case_id)


def _refuse(store: Store, actor: str, record: str | None, record_id: int, reason_code: str, why: str) -> None:
    # Only what is known to be well-formed goes on the record: the input may be anything.
    code = reason_code if reason_code in REASON_CODES else None
    append(store, actor, REFUSED, record, record_id, {"reason_code": code, "why": why})
