"""``/api/v1/privacy``: reveal a pseudonym of a case with a reason, the DPO's report of reveals, and the
do-not-refer list for investigators. The same core functions as ``vigil reveal`` and ``vigil dnr``.

Changes are POSTs: a bearer token, or the session cookie (SameSite=Strict) with its CSRF token in
``X-CSRF-Token``, as everywhere else in the API.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from vigil.core.model import utcnow
from vigil.privacy import deconfliction, reveal, reveal_record
from vigil.privacy.access import ADMIN, PermissionDenied, may_reveal
from vigil.privacy.settings import PrivacySettings
from vigil.store import Store
from vigil.store.types import MAX_ROW_ID
from vigil.web.api.schemas import ErrorOut
from vigil.web.auth import Principal, require
from vigil.web.context import AppContext, get_ctx
from vigil.web.errors import ApiError
from vigil.workflow.roles import Permission

router = APIRouter(prefix="/api/v1/privacy", tags=["privacy"])
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut},
    401: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
}
CaseId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
NO_STORE = {"Cache-Control": "no-store"}


def privacy_settings(ctx: AppContext) -> PrivacySettings:
    return PrivacySettings.from_config(ctx.config)


class RevealIn(BaseModel):
    """Reason code and justification default to empty so that a reveal without them reaches the core,
    which refuses it (400) and puts the refusal on the record."""

    model_config = ConfigDict(extra="forbid")
    case_id: int = Field(ge=1, le=MAX_ROW_ID)
    pseudonym: str = Field(min_length=1, max_length=200)
    reason_code: str = Field("", max_length=64)
    reason_text: str = Field("", max_length=4000)


class RevealOut(BaseModel):
    pseudonym: str
    kind: str
    platform: str
    value: str
    details: dict[str, Any]
    case_id: int
    revealed_at: datetime
    expires_at: datetime
    show_seconds: int = Field(description="how long a UI shows the value before hiding it again")


class RevealRecordIn(BaseModel):
    """The audit entry (``audit_log``) or case history line (``case_event``) whose free text to show in
    clear; reason as for a pseudonym."""

    model_config = ConfigDict(extra="forbid")
    record: str = Field(min_length=1, max_length=32)
    id: int = Field(ge=1, le=MAX_ROW_ID)
    reason_code: str = Field("", max_length=64)
    reason_text: str = Field("", max_length=4000)


class RevealRecordOut(BaseModel):
    record: str
    id: int
    case_id: int | None
    text: dict[str, Any]
    revealed_at: datetime
    expires_at: datetime
    show_seconds: int = Field(description="how long a UI shows the text before hiding it again")


class IdentityOut(BaseModel):
    pseudonym: str
    kind: str
    role: str


class CaseIdentitiesOut(BaseModel):
    case_id: int
    may_reveal: bool
    reason_codes: dict[str, str]
    show_seconds: int
    identities: list[IdentityOut]


class DnrIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(min_length=1, max_length=16)
    value: str = Field(min_length=1, max_length=2048)
    reason: str = Field(min_length=1, max_length=4000)
    expires_at: datetime | None = None
    days: int | None = Field(None, ge=1, le=100_000)
    owner: str | None = Field(None, min_length=1, max_length=128, description="admins only")


class DnrOut(BaseModel):
    id: int
    kind: str
    value: str
    owner: str
    reason: str | None
    created_at: datetime
    expires_at: datetime
    lifted_at: datetime | None


class LiftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field("", max_length=2000)


@router.get("/cases/{case_id}/identities", response_model=CaseIdentitiesOut, responses=ERRORS)
def case_identities(
    case_id: CaseId,
    who: Principal = Depends(require(Permission.VIEW_CASES)),
    ctx: AppContext = Depends(get_ctx),
) -> CaseIdentitiesOut:
    """The case's pseudonyms (never a clear value) and whether the caller may reveal them."""
    settings = privacy_settings(ctx)
    try:
        found = reveal.case_identities(ctx.store, case_id)
    except reveal.RevealRefused as exc:
        raise ApiError(exc.status, str(exc)) from None
    return CaseIdentitiesOut(
        case_id=case_id,
        may_reveal=may_reveal(ctx.store, who.name, [who.role], settings.reveal_roles),
        reason_codes=reveal.REASON_CODES,
        show_seconds=settings.reveal_show_seconds,
        identities=[IdentityOut(**i.to_dict()) for i in found],
    )


@router.post("/reveal", response_model=RevealOut, responses=ERRORS)
def post_reveal(
    body: RevealIn,
    who: Principal = Depends(require(Permission.VIEW_CASES)),
    ctx: AppContext = Depends(get_ctx),
) -> JSONResponse:
    """Reveal the clear value behind a pseudonym of a case. Needs a role in ``[privacy] reveal_roles``
    (default: dpo) or a personal grant, a reason code and a justification; refusals and reveals are
    audited (never with the clear value). The answer is not to be cached."""
    settings = privacy_settings(ctx)
    try:
        shown = reveal.reveal(
            ctx.store,
            who.name,
            [who.role],
            body.case_id,
            body.pseudonym,
            body.reason_code,
            body.reason_text,
            settings,
        )
    except reveal.RevealRefused as exc:
        raise ApiError(exc.status, str(exc)) from None
    out = RevealOut(**shown.to_dict(), show_seconds=settings.reveal_show_seconds)
    return JSONResponse(out.model_dump(mode="json"), headers=NO_STORE)


@router.post("/reveal-record", response_model=RevealRecordOut, responses=ERRORS)
def post_reveal_record(
    body: RevealRecordIn,
    who: Principal = Depends(require(Permission.VIEW_CASES)),
    ctx: AppContext = Depends(get_ctx),
) -> JSONResponse:
    """The clear free text (reasons, notes, justifications as typed) of one audit entry or one line of a
    case's history, which the audit and history views show with identifiers masked. The same rules and
    record as a reveal of a pseudonym; not to be cached."""
    settings = privacy_settings(ctx)
    try:
        shown = reveal_record.reveal_record(
            ctx.store,
            who.name,
            [who.role],
            body.record,
            body.id,
            body.reason_code,
            body.reason_text,
            settings,
        )
    except reveal.RevealRefused as exc:
        raise ApiError(exc.status, str(exc)) from None
    out = RevealRecordOut(**shown.to_dict(), show_seconds=settings.reveal_show_seconds)
    return JSONResponse(out.model_dump(mode="json"), headers=NO_STORE)


@router.get("/reveals", responses=ERRORS)
def reveals_report(
    since: datetime | None = None,
    until: datetime | None = None,
    who: Principal = Depends(require(Permission.PRIVACY_REPORT)),
    ctx: AppContext = Depends(get_ctx),
) -> dict[str, Any]:
    """Reveals and refusals counted by reason, person and case, for the data-protection officer."""
    return reveal.reveal_report(ctx.store, since, until)


def list_dnr(store: Store, who: Principal, everyone: bool, include_inactive: bool) -> list[DnrOut]:
    """The caller's own entries; an admin may ask for everyone's."""
    if everyone and who.role != ADMIN:
        raise ApiError(403, "only an admin lists everyone's do-not-refer entries")
    entries = deconfliction.list_entries(
        store, who.name, [who.role], include_inactive, owner=None if everyone else who.name
    )
    return [DnrOut(**e.to_dict()) for e in entries]


@router.get("/dnr", response_model=list[DnrOut], responses=ERRORS)
def get_dnr(
    everyone: Annotated[bool, Query(alias="all", description="admins: everyone's entries")] = False,
    inactive: Annotated[bool, Query(description="expired and lifted entries too")] = False,
    who: Principal = Depends(require(Permission.MANAGE_DNR)),
    ctx: AppContext = Depends(get_ctx),
) -> list[DnrOut]:
    """Your do-not-refer entries (accounts and channels are shown as the pseudonyms they are kept as)."""
    return list_dnr(ctx.store, who, everyone, inactive)


def add_dnr(ctx: AppContext, who: Principal, body: DnrIn) -> DnrOut:
    if body.owner not in (None, who.name) and who.role != ADMIN:
        raise ApiError(403, "only an admin adds an entry on someone else's behalf")
    if body.expires_at is not None and body.days is not None:
        raise ApiError(400, "give expires_at or days, not both")
    expires = body.expires_at or utcnow() + timedelta(days=body.days or 90)
    if expires.tzinfo is None:
        raise ApiError(400, "expires_at needs a time zone (e.g. 2026-06-30T00:00:00Z)")
    entry = deconfliction.add_entry(
        ctx.store, body.owner or who.name, body.kind, body.value, body.reason, expires, privacy_settings(ctx)
    )
    return DnrOut(**entry.to_dict())


@router.post("/dnr", response_model=DnrOut, status_code=201, responses=ERRORS)
def post_dnr(
    body: DnrIn,
    who: Principal = Depends(require(Permission.MANAGE_DNR)),
    ctx: AppContext = Depends(get_ctx),
) -> DnrOut:
    """Add an entry: a url, domain, account, channel (platform:handle), sha256 or pdq, with a reason
    (seen only by its owner and admins) and an expiry (``expires_at``, or ``days``, default 90)."""
    return add_dnr(ctx, who, body)


def lift_dnr(ctx: AppContext, who: Principal, entry_id: int, note: str) -> None:
    try:
        deconfliction.lift_entry(ctx.store, who.name, [who.role], entry_id, note)
    except PermissionDenied as exc:
        raise ApiError(403, str(exc)) from None


@router.post("/dnr/{entry_id}/lift", status_code=204, response_class=Response, responses=ERRORS)
def post_lift(
    entry_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
    body: LiftIn,
    who: Principal = Depends(require(Permission.MANAGE_DNR)),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """Lift an entry: its owner or an admin; anyone else is refused (403, and the attempt is audited)."""
    lift_dnr(ctx, who, entry_id, body.note)
    return Response(status_code=204)


@router.get("/notifications", responses=ERRORS)
def notifications(
    who: Principal = Depends(require(Permission.MANAGE_DNR)), ctx: AppContext = Depends(get_ctx)
) -> list[dict[str, Any]]:
    """Your unread notifications: who was stopped by which of your entries, on which case."""
    return [
        {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
        for row in deconfliction.pending_notifications(ctx.store, who.name)
    ]
