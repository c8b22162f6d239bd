"""Reading evidence back: every access is written to the audit log before the bytes are handed out."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from vigil.audit.log import append
from vigil.config import Config
from vigil.errors import VigilError
from vigil.evidence.capture import blob_store
from vigil.evidence.tables import evidence_captures, evidence_parts
from vigil.store import Store


def get_capture(store: Store, capture_id: int) -> dict[str, Any]:
    with store.read() as conn:
        row = conn.execute(select(evidence_captures).where(evidence_captures.c.id == capture_id)).mappings()
        found = row.first()
        if found is None:
            raise VigilError(f"capture {capture_id} does not exist")
        parts = conn.execute(
            select(evidence_parts)
            .where(evidence_parts.c.capture_id == capture_id)
            .order_by(evidence_parts.c.id)
        ).mappings()
        return {**dict(found), "parts": [dict(p) for p in parts]}


def captures_for_case(store: Store, case_id: int) -> list[dict[str, Any]]:
    with store.read() as conn:
        ids = conn.execute(
            select(evidence_captures.c.id)
            .where(evidence_captures.c.case_id == case_id, evidence_captures.c.deleted_at.is_(None))
            .order_by(evidence_captures.c.id)
        ).scalars()
        wanted = list(ids)
    return [get_capture(store, i) for i in wanted]


def read_part(store: Store, config: Config, sha256: str, actor: str, purpose: str) -> bytes:
    """The bytes of one stored part, hash-checked; the access is audited first."""
    append(store, actor, "evidence.read", "blob", sha256, {"purpose": purpose})
    return blob_store(config).get(sha256)
