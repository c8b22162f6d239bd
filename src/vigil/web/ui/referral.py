"""The case page's referral forms: draft a document (voluntary referral, EU removal order, DSA Art. 16
notice) for a decided case, and send an approved one by e-mail or signed webhook. Approval is the
workflow's own move (``/cases/{id}/transition`` to ``approved``), offered next to the documents.

Every change goes through the functions the CLI uses (``documents.create_document``, ``mail.send_email``,
``webhook.send_webhook``), so the review rules hold and everything is audited there: drafting needs a
decided case, sending needs a second person's approval and clears the do-not-refer gate. A refusal is
shown on the case page with its reason (422 for a malformed form, the workflow's status otherwise)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.errors import ConfigError, UsageError, VigilError
from vigil.privacy.inputs import require_storable
from vigil.referral.annex_i import GROUNDS, MAX_WITHHOLD_WEEKS
from vigil.referral.destinations import MAX_REASON, DestinationOverride, DestinationRefused
from vigil.referral.documents import KINDS, create_document, get_document
from vigil.referral.drafting import platform_by_key
from vigil.referral.mail import send_email
from vigil.referral.strings import available
from vigil.referral.webhook import send_webhook
from vigil.store.types import MAX_ROW_ID
from vigil.web import page
from vigil.web.auth import Principal, csrf_ok
from vigil.web.context import AppContext, get_ctx
from vigil.web.page import page_access
from vigil.web.ui.pages import render_case
from vigil.workflow.errors import WorkflowError
from vigil.workflow.roles import Permission

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
CHANNELS = {"email": "e-mail (SMTP)", "webhook": "signed webhook"}
MAX_URLS = 50
MAX_URL = 2048
DOCUMENTS = page_access(Permission.WORK_CASES, "draft or send documents")


class FormInvalid(UsageError):
    """A field of the form cannot be used as given (422)."""


@dataclass(frozen=True, slots=True)
class DraftForm:
    kind: str
    provider: str
    urls: list[str]
    grounds: list[str]
    reasons: str
    withhold_weeks: int
    additional_information: str
    file_number: str
    lang: str


def _urls(text: str, field: str = "urls") -> list[str]:
    urls = [line.strip() for line in text.splitlines() if line.strip()]
    if len(urls) > MAX_URLS:
        raise FormInvalid(f"{field}: at most {MAX_URLS} URLs in one document")
    for url in urls:
        try:
            parts = urlsplit(url)
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL:
            raise FormInvalid(f"{field}: {url[:80]!r} is not an http(s) URL of at most {MAX_URL} characters")
        if any(c.isspace() or not c.isprintable() for c in url):
            raise FormInvalid(f"{field}: {url[:80]!r} contains spaces or control characters")
    return urls


def _weeks(text: str) -> int:
    try:
        weeks = int(text.strip() or "0")
    except ValueError:
        weeks = -1
    if not 0 <= weeks <= MAX_WITHHOLD_WEEKS:
        raise FormInvalid(f"withhold_weeks: a whole number of weeks from 0 to {MAX_WITHHOLD_WEEKS}")
    return weeks


def parse_draft(ctx: AppContext, fields: dict[str, Any], grounds: list[str]) -> DraftForm:
    """The draft form's fields, checked one by one; ``FormInvalid`` names the first bad one."""
    texts = {k: str(v) for k, v in fields.items()}
    try:
        require_storable(**texts, grounds="".join(grounds))
    except UsageError as exc:
        raise FormInvalid(str(exc)) from exc
    if texts["kind"] not in KINDS:
        raise FormInvalid(f"kind: one of {', '.join(KINDS)}")
    if not texts["provider"]:
        raise FormInvalid("provider: choose the provider the document goes to")
    unknown = sorted({g for g in grounds if g not in GROUNDS})
    if unknown:
        raise FormInvalid(f"grounds: {', '.join(repr(g[:8]) for g in unknown[:3])} is not a, b, c, d or e")
    if texts["lang"] not in available(ctx.config):
        raise FormInvalid(f"lang: one of {', '.join(available(ctx.config))}")
    return DraftForm(
        kind=texts["kind"],
        provider=texts["provider"],
        urls=_urls(texts["urls"]),
        grounds=sorted(set(grounds)),
        reasons=texts["reasons"].strip(),
        withhold_weeks=_weeks(texts["withhold_weeks"]),
        additional_information=texts["additional_information"].strip(),
        file_number=texts["file_number"].strip(),
        lang=texts["lang"],
    )


def refusal(request: Request, ctx: AppContext, who: Principal, csrf: str) -> Response | None:
    """A response refusing the change for want of the session's CSRF token, or ``None`` (the page's gate,
    ``page_access``, has checked the role)."""
    if who.via != "session" or not csrf_ok(who, csrf):
        return page.forbidden(request, ctx, who, "missing or wrong CSRF token; reload the page")
    return None


def _status(exc: VigilError) -> int:
    if isinstance(exc, FormInvalid):
        return 422
    if isinstance(exc, WorkflowError | DestinationRefused):
        return exc.status
    return 503 if isinstance(exc, ConfigError) else 400


@router.post("/cases/{case_id}/documents", response_class=HTMLResponse)
def draft_document(
    request: Request,
    case_id: Id,
    kind: Annotated[str, Form(max_length=32)] = "",
    provider: Annotated[str, Form(max_length=128)] = "",
    urls: Annotated[str, Form(max_length=MAX_URLS * (MAX_URL + 2))] = "",
    grounds: Annotated[list[str] | None, Form(max_length=len(GROUNDS))] = None,
    reasons: Annotated[str, Form(max_length=4000)] = "",
    withhold_weeks: Annotated[str, Form(max_length=8)] = "0",
    additional_information: Annotated[str, Form(max_length=4000)] = "",
    file_number: Annotated[str, Form(max_length=200)] = "",
    lang: Annotated[str, Form(max_length=8)] = "en",
    csrf: Annotated[str, Form(max_length=200)] = "",
    user: Principal = Depends(DOCUMENTS),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """Draft a document for a decided case: the first one proposes the case for a second person's approval."""
    refused = refusal(request, ctx, user, csrf)
    if refused is not None:
        return refused
    submitted: dict[str, Any] = {
        "kind": kind,
        "provider": provider,
        "urls": urls,
        "reasons": reasons,
        "withhold_weeks": withhold_weeks,
        "additional_information": additional_information,
        "file_number": file_number,
        "lang": lang,
    }
    try:
        form = parse_draft(ctx, submitted, [g[:8] for g in grounds or []])
        try:
            recipient = platform_by_key(ctx.config, form.provider).recipient("platform")
        except UsageError as exc:
            raise FormInvalid(f"provider: {exc}") from exc
        extra: dict[str, Any] = {}
        if form.kind == "removal_order":
            extra = {
                "grounds": form.grounds,
                "withhold_weeks": form.withhold_weeks,
                "additional_information": form.additional_information,
                "file_number": form.file_number,
            }
        create_document(
            ctx.store,
            ctx.config,
            case_id,
            form.kind,
            recipient,
            user.name,
            role=user.role,
            urls=form.urls or None,
            reasons=form.reasons,
            lang=form.lang,
            **extra,
        )
    except VigilError as exc:
        submitted["grounds"] = list(grounds or [])
        return render_case(
            request, ctx, user, case_id, status=_status(exc), referral_error=str(exc), draft=submitted
        )
    return RedirectResponse(f"/cases/{case_id}#referral", status_code=303)


@router.post("/documents/{document_id}/send", response_class=HTMLResponse)
def send_document(
    request: Request,
    document_id: Id,
    channel: Annotated[str, Form(max_length=16)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    webhook: Annotated[str, Form(max_length=MAX_URL)] = "",
    override_reason: Annotated[str, Form(max_length=MAX_REASON)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
    user: Principal = Depends(DOCUMENTS),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """Send an approved document by e-mail or webhook; the delivery (or its failure) is recorded. A
    destination the registry does not list for the provider needs ``override_reason`` from a signed-in
    user whose role may override (``destinations``)."""
    refused = refusal(request, ctx, user, csrf)
    if refused is not None:
        return refused
    try:
        document = get_document(ctx.store, document_id)
    except UsageError as exc:
        return page.render(request, ctx, user, "error.html", 404, message=str(exc))
    case_id = int(document["case_id"])
    target = email.strip() if channel == "email" else webhook.strip()
    try:
        require_storable(email=email, webhook=webhook, override_reason=override_reason)
        override = (
            DestinationOverride(override_reason.strip(), user.name, user.role)
            if override_reason.strip()
            else None
        )
        if channel not in CHANNELS:
            raise FormInvalid(f"channel: one of {', '.join(CHANNELS)}")
        if channel == "webhook" and len(_urls(target, "webhook")) != 1:
            raise FormInvalid("webhook: the webhook's http(s) URL")
        if channel == "email":
            rc = send_email(
                ctx.store, ctx.config, document, target, user.name, role=user.role, override=override
            )
        else:
            rc = send_webhook(
                ctx.store, ctx.config, document, target, user.name, role=user.role, override=override
            )
    except VigilError as exc:
        return render_case(request, ctx, user, case_id, status=_status(exc), referral_error=str(exc))
    if rc:
        why = (
            f"delivery of {document['reference']} by {CHANNELS[channel]} to {target} failed; the attempt"
            " is recorded under the document's deliveries"
        )
        return render_case(request, ctx, user, case_id, status=502, referral_error=why)
    return RedirectResponse(f"/cases/{case_id}#referral", status_code=303)
