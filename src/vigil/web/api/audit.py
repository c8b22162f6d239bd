"""``/api/v1/audit``: read the log, verify its chain, export it (auditors and admins).

Entries are shown and exported as ``vigil.privacy.views.audit_row`` makes them: identifiers that staff
typed into free text are masked; ``POST /api/v1/privacy/reveal-record`` shows one entry in clear."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from vigil.audit import log as audit
from vigil.privacy.views import audit_row
from vigil.web.api.schemas import AuditEntryOut, ErrorOut, VerifyOut
from vigil.web.auth import Principal, require
from vigil.web.context import AppContext, get_ctx
from vigil.workflow.roles import Permission

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
ERRORS: dict[int | str, dict[str, object]] = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}}


@router.get("", response_model=list[AuditEntryOut], responses=ERRORS)
def list_entries(
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    target_type: Annotated[str | None, Query(max_length=64)] = None,
    target_id: Annotated[str | None, Query(max_length=256)] = None,
    who: Principal = Depends(require(Permission.VIEW_AUDIT)),
    ctx: AppContext = Depends(get_ctx),
) -> list[AuditEntryOut]:
    """Newest first; identifiers in free text masked."""
    found = audit.entries(ctx.store, limit, offset, target_type, target_id)
    return [AuditEntryOut(**_fields(audit_row(e))) for e in found]


@router.get("/verify", response_model=VerifyOut, responses=ERRORS)
def verify(
    who: Principal = Depends(require(Permission.VIEW_AUDIT)), ctx: AppContext = Depends(get_ctx)
) -> VerifyOut:
    """Recompute the hash chain; name the first broken entry."""
    return VerifyOut(**audit.verify(ctx.store).to_dict())


@router.get("/export", responses=ERRORS, response_class=StreamingResponse)
def export(
    who: Principal = Depends(require(Permission.EXPORT_AUDIT)), ctx: AppContext = Depends(get_ctx)
) -> StreamingResponse:
    """The whole log as JSON Lines, newest first, identifiers in free text masked (so the export cannot be
    re-verified on its own: ``/verify`` checks the stored chain). The export itself is audited."""
    audit.append(ctx.store, who.name, "audit.export", "audit_log", None, {"format": "jsonl"})
    store = ctx.store

    def lines() -> Iterator[str]:
        offset = 0
        while batch := audit.entries(store, 1000, offset):
            offset += len(batch)
            for e in batch:
                yield json.dumps(_fields(audit_row(e)), default=str, ensure_ascii=False) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


def _fields(entry: audit.AuditEntry) -> dict[str, Any]:
    return {k: getattr(entry, k) for k in AuditEntryOut.model_fields}
