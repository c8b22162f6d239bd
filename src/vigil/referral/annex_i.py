"""The EU removal order (Art. 3 and Annex I of Regulation 2021/784) as JSON, checked against the shipped
schema and against what the schema cannot say (Section D must agree with Section A).

Sections, in the Annex's order: the opening statements (one hour, six-month preservation); A: issuing
Member State, addressee with legal representative and contact point, the provider's Member State, date and
time, reference; B: URLs, the Art. 2(7)(a)-(e) grounds, further reasons; C: information to the content
provider (Art. 11(3)); D: information to the competent authority of the provider's Member State (Art. 4);
E: the issuing authority; F: contact details for follow-up; G: redress.

What comes from where: the authority from ``[authority]`` in config.toml (``name``, ``member_state``,
``type``, ``representative``, ``address``, ``email``, ``phone``, ``[authority.follow_up]``,
``[authority.redress] body, deadline, legislation``); other States' competent authorities from
``[competent_authorities.<XX>]``; the addressee from the hosting-provider registry.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from vigil.config import Config
from vigil.errors import UsageError, VigilError

GROUNDS = ("a", "b", "c", "d", "e")
AUTHORITY_TYPES = ("judicial", "law_enforcement", "other")
MAX_WITHHOLD_WEEKS = 6  # Art. 11(3)
SCHEMA_VERSION = "2"


class DocumentInvalid(VigilError):
    """A document does not satisfy its schema; ``errors`` says where."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors[:5]))
        self.errors = errors


@cache
def _schema_text() -> str:
    return resources.files("vigil.data").joinpath("schemas", "removal_order.schema.json").read_text("utf-8")


def removal_order_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(_schema_text())
    return schema


def member_states() -> frozenset[str]:
    """The codes the schema accepts (EU Member States; Greece as EL or GR)."""
    return frozenset(removal_order_schema()["$defs"]["member_state"]["enum"])


def validate_removal_order(body: Any) -> None:
    validator = jsonschema.Draft202012Validator(removal_order_schema())
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        raise DocumentInvalid([f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors])
    a, d, f = body["section_a"], body["section_d"], body["section_f"]
    elsewhere = a["main_establishment_member_state"] != a["issuing_member_state"]
    problems = []
    if d["main_establishment_elsewhere"] != elsewhere:
        problems.append(
            "/section_d/main_establishment_elsewhere: must be "
            f"{str(elsewhere).lower()} (Section A names {a['main_establishment_member_state']} and"
            f" {a['issuing_member_state']})"
        )
    if elsewhere and f.get("main_establishment_authority") != d["copy_sent_to"]:
        problems.append("/section_f/main_establishment_authority: must be the authority Section D names")
    if problems:
        raise DocumentInvalid(problems)


def party(data: Any) -> dict[str, str]:
    keys = ("name", "address", "email", "phone")
    if not isinstance(data, dict):
        return {}
    return {k: str(v).strip() for k, v in data.items() if k in keys and v is not None and str(v).strip()}


def _authority(config: Config) -> dict[str, Any]:
    authority = config.extra.get("authority") or {}
    if not isinstance(authority, dict) or not authority.get("name") or not authority.get("member_state"):
        raise UsageError("a removal order needs [authority] name and member_state in config.toml")
    if authority.get("type") not in AUTHORITY_TYPES:
        raise UsageError(
            f"a removal order needs [authority] type, one of {', '.join(AUTHORITY_TYPES)} (Annex I section E)"
        )
    redress = authority.get("redress")
    if not isinstance(redress, dict) or not redress.get("body") or not redress.get("deadline"):
        raise UsageError(
            "a removal order needs [authority.redress] body (the competent body or court) and deadline"
            " (for challenging the order), and may give legislation (Annex I section G)"
        )
    return authority


def _addressee(recipient: dict[str, Any]) -> tuple[dict[str, Any], str]:
    who = str(recipient.get("key") or recipient.get("name") or "the provider")
    contact = party(recipient.get("contact_point"))
    if not contact.get("email"):
        raise UsageError(
            f"no contact point e-mail for {who} (Art. 15(1)): fill contact_point in"
            " $VIGIL_HOME/platforms.yaml from what the provider publishes"
        )
    state = str(recipient.get("member_state") or "").strip().upper()
    if not state:
        raise UsageError(
            f"the Member State of {who}'s main establishment or legal representative is not known:"
            " fill member_state in $VIGIL_HOME/platforms.yaml"
        )
    addressee = {
        "name": str(recipient.get("name") or "").strip(),
        "email": str(recipient.get("email") or "").strip(),
        "legal_representative": party(recipient.get("legal_representative")),
        "contact_point": contact,
    }
    return addressee, state


def _copy_to(config: Config, state: str) -> dict[str, str]:
    known = config.extra.get("competent_authorities") or {}
    found = party(known.get(state) if isinstance(known, dict) else None)
    if not found:
        raise UsageError(
            f"the provider is established in {state}: Art. 4(1) needs a copy to that State's competent"
            f" authority; add [competent_authorities.{state}] name and email to config.toml"
        )
    return found


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
    withhold_weeks: int = 0,
    file_number: str = "",
) -> dict[str, Any]:
    authority = _authority(config)
    unknown = sorted(set(grounds) - set(GROUNDS))
    if unknown:
        raise UsageError(f"unknown Art. 2(7) ground(s) {unknown}: use a, b, c, d or e")
    if not 0 <= int(withhold_weeks) <= MAX_WITHHOLD_WEEKS:
        raise UsageError(f"Art. 11(3) allows withholding for 0 to {MAX_WITHHOLD_WEEKS} weeks")
    addressee, state = _addressee(recipient)
    issuing = str(authority["member_state"]).strip().upper()
    elsewhere = state != issuing
    copy_to = _copy_to(config, state) if elsewhere else {}
    own = party(authority)
    section_e = {
        "authority_type": str(authority["type"]),
        **own,
        "representative": str(authority.get("representative") or ""),
        "file_number": file_number,
    }
    section_f: dict[str, Any] = {"follow_up": party(authority.get("follow_up")) or own}
    if elsewhere:
        section_f["main_establishment_authority"] = copy_to
    redress = authority["redress"]
    body = {
        "schema_version": SCHEMA_VERSION,
        "type": "removal_order",
        "language": lang,
        "obligations": {
            "deadline_minutes": 60,
            "preservation_months": int(authority.get("preservation_months", 6)),
        },
        "section_a": {
            "issuing_member_state": issuing,
            "addressee": addressee,
            "main_establishment_member_state": state,
            "issued_at": issued_at.isoformat().replace("+00:00", "Z"),
            "reference": reference,
        },
        "section_b": {
            "urls": list(dict.fromkeys(urls)),
            "additional_information": additional_information,
            "grounds": {g: g in grounds for g in GROUNDS},
            "further_reasons": further_reasons,
        },
        "section_c": {
            "withhold_from_content_provider": int(withhold_weeks) > 0,
            "withhold_weeks": int(withhold_weeks),
        },
        "section_d": {"main_establishment_elsewhere": elsewhere, "copy_sent_to": copy_to},
        "section_e": section_e,
        "section_f": section_f,
        "section_g": {
            "body": str(redress["body"]),
            "deadline": str(redress["deadline"]),
            "legislation": str(redress.get("legislation") or ""),
        },
    }
    validate_removal_order(body)
    return body
