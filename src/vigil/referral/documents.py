"""Documents made from a case: an EU removal order (Annex I of Regulation 2021/784), a referral for
voluntary review under the provider's terms, and a DSA Article 16 notice. Each is stored, added to the case
history and the audit log. The removal order is validated against the shipped JSON Schema."""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources
from typing import Any

import jsonschema
from sqlalchemy import func, select

from vigil.config import Config
from vigil.core.model import utcnow
from vigil.errors import UsageError, VigilError
from vigil.referral.case_history import record_in
from vigil.referral.strings import load_strings
from vigil.referral.tables import referral_documents
from vigil.store import Store
from vigil.workflow.audit import append_in

KINDS = ("removal_order", "voluntary_referral", "dsa_notice")
GROUNDS = ("a", "b", "c", "d", "e")


class DocumentInvalid(VigilError):
    """A document does not satisfy its schema; ``errors`` says where."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors[:5]))
        self.errors = errors


def removal_order_schema() -> dict[str, Any]:
    text = resources.files("vigil.data").joinpath("schemas", "removal_order.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate_removal_order(body: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(removal_order_schema())
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        raise DocumentInvalid([f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors])


def _party(data: dict[str, Any] | None) -> dict[str, str]:
    keys = ("name", "address", "email", "phone")
    return {k: str(v) for k, v in (data or {}).items() if k in keys and v is not None}


def _case_urls(store: Store, case_id: int) -> list[str]:
    case = store.get_case(case_id)
    if case is None:
        raise UsageError(f"case {case_id} does not exist")
    item = store.get_item(case.item_id)
    return [item.url] if item and item.url else []


def _reference(store: Store, config: Config, case_id: int, now: datetime) -> str:
    prefix = str(config.extra.get("reference_prefix") or "VIGIL")
    with store.read() as conn:
        n = conn.execute(select(func.count()).select_from(referral_documents)).scalar_one()
    return f"{prefix}-{now:%Y%m%d}-{case_id}-{n + 1}"


def build_removal_order(
    config: Config,
    reference: str,
    urls: list[str],
    recipient: dict[str, Any],
    grounds: list[str],
    further_reasons: str,
    issued_at: datetime,
    lang: str = "en",
    additional_information: str = "",
    cross_border: dict[str, Any] | None = None,
    withhold_weeks: int = 0,
) -> dict[str, Any]:
    authority = config.extra.get("authority") or {}
    if not authority.get("name") or not authority.get("member_state"):
        raise UsageError("a removal order needs [authority] name and member_state in config.toml")
    unknown = sorted(set(grounds) - set(GROUNDS))
    if unknown:
        raise UsageError(f"unknown Art. 2(7) ground(s) {unknown}: use a, b, c, d or e")
    strings = load_strings(lang, config)
    issuer = _party(authority)
    body = {
        "schema_version": "1",
        "type": "removal_order",
        "language": lang,
        "section_a": {
            "issuing_member_state": str(authority["member_state"]).upper(),
            "issuing_authority": issuer,
            "reference": reference,
            "issued_at": issued_at.isoformat().replace("+00:00", "Z"),
            "addressee": {
                "name": str(recipient.get("name") or ""),
                "email": str(recipient.get("email") or ""),
                "legal_representative": _party(recipient.get("legal_representative")),
                "contact_point": _party(recipient.get("contact_point")),
            },
        },
        "section_b": {
            "urls": list(dict.fromkeys(urls)),
            "additional_information": additional_information,
            "grounds": {g: g in grounds for g in GROUNDS},
            "further_reasons": further_reasons,
        },
        "section_c": {"deadline_minutes": 60, "preservation_months": 6},
        "section_d": {
            "cross_border": bool(cross_border),
            "main_establishment_member_state": str((cross_border or {}).get("member_state", "")).upper(),
            "competent_authority": _party((cross_border or {}).get("authority")),
        },
        "section_e": _party(authority.get("contact") or authority),
        "section_f": {"redress": str(authority.get("redress") or strings["defaults"]["redress"])},
        "section_g": {
            "withhold_information_from_content_provider": withhold_weeks > 0,
            "withhold_weeks": withhold_weeks,
        },
    }
    validate_removal_order(body)
    return body


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
        "from": _party(unit),
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
    urls: list[str] | None = None,
    grounds: list[str] | None = None,
    reasons: str = "",
    lang: str = "en",
    now: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Build, store and record one document for a case; returns the stored row (with ``body``)."""
    if kind not in KINDS:
        raise UsageError(f"unknown document kind {kind!r} (one of {', '.join(KINDS)})")
    now = now or utcnow()
    targets = urls or _case_urls(store, case_id)
    if not targets:
        raise UsageError(f"case {case_id} has no URL; pass the URL(s) explicitly")
    reference = _reference(store, config, case_id, now)
    if kind == "removal_order":
        body = build_removal_order(
            config, reference, targets, recipient, grounds or [], reasons, now, lang, **extra
        )
    elif kind == "voluntary_referral":
        body = build_voluntary_referral(config, reference, targets, recipient, reasons, lang)
    else:
        body = build_dsa_notice(config, reference, targets, recipient, reasons, lang)
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
        "status": "issued",
    }
    with store.write() as conn:
        doc_id = conn.execute(
            referral_documents.insert().values(**row).returning(referral_documents.c.id)
        ).scalar_one()
        append_in(
            conn, actor, f"referral.{kind}", "document", doc_id, {"case_id": case_id, "reference": reference}
        )
        record_in(
            conn,
            case_id,
            None,
            actor,
            f"{kind.replace('_', ' ')} issued",
            {"document_id": doc_id, "reference": reference},
            at=now,
        )
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
