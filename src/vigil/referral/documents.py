"""Documents made from a case: an EU removal order (Annex I of Regulation 2021/784, ``annex_i``), a referral
for voluntary review under the provider's terms, and a DSA Article 16 notice. Each is drafted for review
(``review.clear_to_draft``: the first draft proposes the case), stored with status ``draft``, added to the
case history and the audit log; it goes out only once a second person has approved (``delivery``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from vigil.audit.history import note_in
from vigil.audit.log import append_in
from vigil.config import Config
from vigil.core.model import CaseState, utcnow
from vigil.errors import UsageError
from vigil.referral.annex_i import (
    DocumentInvalid,
    build_removal_order,
    party,
    removal_order_schema,
    validate_removal_order,
)
from vigil.referral.review import clear_to_draft
from vigil.referral.strings import load_strings
from vigil.referral.tables import referral_documents
from vigil.store import Store
from vigil.store.schema import cases
from vigil.workflow.moves import move_in

KINDS = ("removal_order", "voluntary_referral", "dsa_notice")
__all__ = ["DocumentInvalid", "create_document", "removal_order_schema", "validate_removal_order"]


def case_urls(store: Store, case_id: int) -> list[str]:
    case = store.get_case(case_id)
    if case is None:
        raise UsageError(f"case {case_id} does not exist")
    item = store.get_item(case.item_id)
    return [item.url] if item and item.url else []


#: Drafts racing for the same reference: each retry takes the next number.
REFERENCE_TRIES = 20


def _reference(conn: Connection, config: Config, case_id: int, now: datetime, attempt: int = 0) -> str:
    prefix = str(config.extra.get("reference_prefix") or "VIGIL")
    n = conn.execute(select(func.count()).select_from(referral_documents)).scalar_one()
    return f"{prefix}-{now:%Y%m%d}-{case_id}-{n + 1 + attempt}"


def _is_reference_clash(exc: IntegrityError) -> bool:
    """Whether the insert failed on the unique reference (another draft took the number first)."""
    text = str(exc.orig).lower()
    return "reference" in text and ("unique" in text or "duplicate" in text)


def build_voluntary_referral(
    config: Config, reference: str, urls: list[str], recipient: dict[str, Any], reasons: str, lang: str = "en"
) -> dict[str, Any]:
    if not reasons.strip():
        raise UsageError("a referral needs the reasons it is made")
    strings = load_strings(lang, config)
    unit = config.extra.get("authority") or config.extra.get("notifier") or {}
    return {
        "schema_version": "1",
        "type": "voluntary_referral",
        "language": lang,
        "reference": reference,
        "to": {"name": recipient.get("name", ""), "email": recipient.get("email", "")},
        "from": party(unit),
        "introduction": strings["defaults"]["voluntary_intro"],
        "urls": list(dict.fromkeys(urls)),
        "terms_url": str(recipient.get("terms_url") or ""),
        "reasons": reasons,
    }


def build_dsa_notice(
    config: Config, reference: str, urls: list[str], recipient: dict[str, Any], reasons: str, lang: str = "en"
) -> dict[str, Any]:
    notifier = config.extra.get("notifier") or {}
    if not notifier.get("name") or not notifier.get("email"):
        raise UsageError("a DSA Art. 16 notice needs [notifier] name and email in config.toml")
    if not reasons.strip():
        raise UsageError("a DSA Art. 16 notice needs a substantiated explanation of the reasons")
    strings = load_strings(lang, config)
    return {
        "schema_version": "1",
        "type": "dsa_notice",
        "language": lang,
        "reference": reference,
        "to": {"name": recipient.get("name", ""), "email": recipient.get("email", "")},
        "reasons": reasons,
        "urls": list(dict.fromkeys(urls)),
        "notifier": {"name": str(notifier["name"]), "email": str(notifier["email"])},
        "good_faith_statement": str(notifier.get("good_faith") or strings["defaults"]["good_faith"]),
    }


def create_document(
    store: Store,
    config: Config,
    case_id: int,
    kind: str,
    recipient: dict[str, Any],
    actor: str,
    *,
    role: str,
    urls: list[str] | None = None,
    grounds: list[str] | None = None,
    reasons: str = "",
    lang: str = "en",
    now: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Draft, store and record one document for a case; returns the stored row (with ``body``).

    The case must be decided for this kind of document (or already proposed); the first draft moves it to
    ``proposed`` through the workflow, so a second person approves what will be sent."""
    if kind not in KINDS:
        raise UsageError(f"unknown document kind {kind!r} (one of {', '.join(KINDS)})")
    now = now or utcnow()
    targets = urls or case_urls(store, case_id)
    if not targets:
        raise UsageError(f"case {case_id} has no URL; pass the URL(s) explicitly")

    def body_for(reference: str) -> dict[str, Any]:
        if kind == "removal_order":
            return build_removal_order(
                config, reference, targets, recipient, grounds or [], reasons, now, lang, **extra
            )
        if kind == "voluntary_referral":
            return build_voluntary_referral(config, reference, targets, recipient, reasons, lang)
        return build_dsa_notice(config, reference, targets, recipient, reasons, lang)

    with store.read() as conn:
        body = body_for(_reference(conn, config, case_id, now))  # a malformed field fails before any check
    proposes = clear_to_draft(store, case_id, kind, targets, actor, role)
    for attempt in range(REFERENCE_TRIES):
        try:
            with store.write() as conn:
                reference = _reference(conn, config, case_id, now, attempt)
                body = body_for(reference)
                row = {
                    "case_id": case_id,
                    "kind": kind,
                    "reference": reference,
                    "provider": str(recipient.get("key") or recipient.get("name") or ""),
                    "urls": targets,
                    "body": body,
                    "lang": lang,
                    "created_at": now,
                    "created_by": actor,
                    "status": "draft",
                }
                doc_id = conn.execute(
                    referral_documents.insert().values(**row).returning(referral_documents.c.id)
                ).scalar_one()
                append_in(
                    conn,
                    actor,
                    f"referral.{kind}",
                    "document",
                    doc_id,
                    {"case_id": case_id, "reference": reference},
                )
                details: dict[str, Any] = {"drafted_document": doc_id, "reference": reference, "kind": kind}
                if kind == "removal_order":
                    details["cross_border"] = bool(body["section_d"]["main_establishment_elsewhere"])
                reason = f"{kind.replace('_', ' ')} drafted for review"
                # A draft racing this one may have proposed the case since it was checked: then note.
                state = conn.execute(select(cases.c.state).where(cases.c.id == case_id)).scalar()
                if proposes and state != CaseState.PROPOSED:
                    move_in(conn, case_id, "proposed", actor, role, reason, details)
                else:
                    note_in(conn, case_id, actor, reason, details, at=now)
            break
        except IntegrityError as exc:
            if not _is_reference_clash(exc) or attempt == REFERENCE_TRIES - 1:
                raise
    return {"id": doc_id, **row}


def get_document(store: Store, document_id: int) -> dict[str, Any]:
    with store.read() as conn:
        row = (
            conn.execute(select(referral_documents).where(referral_documents.c.id == document_id))
            .mappings()
            .first()
        )
    if row is None:
        raise UsageError(f"document {document_id} does not exist")
    return dict(row)


def documents_for_case(store: Store, case_id: int) -> list[dict[str, Any]]:
    with store.read() as conn:
        rows = conn.execute(
            select(referral_documents)
            .where(referral_documents.c.case_id == case_id)
            .order_by(referral_documents.c.id)
        ).mappings()
        return [dict(r) for r in rows]
