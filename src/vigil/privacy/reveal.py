"""De-anonymisation with a reason: a permitted person reveals one pseudonym of one case, giving a reason
code from a fixed list and a free-text justification. Every reveal and every refusal is audited; the
clear value comes back with an expiry after which a UI must hide it again. ``reveal_report`` counts
them for the data-protection officer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from vigil.audit.log import append, append_in, audit_log, details_of
from vigil.core.model import utcnow
from vigil.errors import UsageError, VigilError
from vigil.privacy.access import PermissionDenied, may_reveal
from vigil.privacy.identities import IdentityGuard
from vigil.privacy.inputs import unstorable
from vigil.privacy.pseudonym import KIND_TAGS, is_pseudonym
from vigil.privacy.settings import PrivacySettings
from vigil.privacy.tables import identity_refs, identity_vault
from vigil.store import Store
from vigil.store.schema import accounts, cases, items

REASON_CODES: dict[str, str] = {
    "referral_check": "confirm the account before a referral, notice or removal order",
    "investigation_request": "request from an investigating authority, with its reference",
    "threat_to_life": "imminent threat to life or physical safety",
    "legal_obligation": "court order or other legal obligation",
    "data_subject_request": "a data subject's request (access, rectification, erasure)",
    "quality_review": "audit or quality review by the data-protection officer",
}
MIN_REASON_TEXT = 10
ACTION = "privacy.reveal"
REFUSED = "privacy.reveal_refused"


class RevealRefused(VigilError):
    """The reveal was not done. ``status`` says why, as HTTP would: 400 no or bad reason, 403 no right,
    404 the case or pseudonym is not there (or not part of that case)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Identity:
    """A pseudonym of a case that a permitted person may reveal, and where in the case it stands."""

    pseudonym: str
    kind: str  # account | handle | name | email | phone | url | user_id
    role: str  # "account", "account handle", "channel", "forwarded from", "meta email", ...

    def to_dict(self) -> dict[str, str]:
        return {"pseudonym": self.pseudonym, "kind": self.kind, "role": self.role}


@dataclass(slots=True)
class Revealed:
    pseudonym: str
    kind: str
    platform: str
    value: str
    case_id: int
    revealed_at: datetime
    expires_at: datetime
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pseudonym": self.pseudonym,
            "kind": self.kind,
            "platform": self.platform,
            "value": self.value,
            "case_id": self.case_id,
            "revealed_at": self.revealed_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "details": self.details,
        }


def reveal(
    store: Store,
    actor: str,
    roles: Iterable[str],
    case_id: int,
    pseudonym: str,
    reason_code: str,
    reason_text: str,
    settings: PrivacySettings | None = None,
    now: datetime | None = None,
) -> Revealed:
    """Reveal the clear value behind ``pseudonym`` (a bare pseudonym or an account key
    ``platform:psa_...``) for ``case_id``. Raises ``RevealRefused`` (audited) when it may not."""
    settings = settings or settings_of(store)
    now = now or utcnow()
    bare = pseudonym.split(":", 1)[-1].strip()
    status, why = _refusal(store, actor, roles, case_id, bare, reason_code, reason_text, settings)
    if why:
        # Only what is known to be well-formed goes on the record: the input may be anything.
        details = {
            "pseudonym": bare if is_pseudonym(bare) else None,
            "reason_code": reason_code if reason_code in REASON_CODES else None,
            "why": why,
        }
        append(store, actor, REFUSED, "case", case_id, details)
        raise RevealRefused(f"reveal refused: {why}", status)
    guard = store.identities
    if not isinstance(guard, IdentityGuard):
        raise RevealRefused("reveal refused: this store does not pseudonymise identities", 404)
    expires = now + timedelta(minutes=settings.reveal_ttl_minutes)
    with store.write() as conn:
        row = (
            conn.execute(select(identity_vault).where(identity_vault.c.pseudonym == bare)).mappings().first()
        )
        if row is None:
            raise RevealRefused(f"reveal refused: {bare} is not in the vault (deleted by retention?)", 404)
        clear = guard.vault.open(bare, bytes(row["ciphertext"]))
        append_in(
            conn,
            actor,
            ACTION,
            "case",
            case_id,
            {
                "pseudonym": bare,
                "kind": row["kind"],
                "reason_code": reason_code,
                "reason_text": reason_text.strip(),
                "expires_at": expires.isoformat(),
            },
        )
    extra = {k: v for k, v in clear.items() if k not in ("kind", "platform", "value")}
    return Revealed(bare, row["kind"], row["platform"], str(clear["value"]), case_id, now, expires, extra)


def reason_refusal(
    store: Store,
    actor: str,
    roles: Iterable[str],
    reason_code: str,
    reason_text: str,
    settings: PrivacySettings,
) -> tuple[int, str]:
    """What every reveal needs, whatever it reveals: a known reason code, a justification and the right
    to reveal. ``(status, why)``; ``why`` is empty when these hold."""
    if unstorable(reason_text or ""):
        return 400, "the justification holds NUL characters or unpaired surrogates"
    if reason_code not in REASON_CODES:
        return 400, f"reason code must be one of {', '.join(REASON_CODES)}"
    if len((reason_text or "").strip()) < MIN_REASON_TEXT:
        return 400, f"a justification of at least {MIN_REASON_TEXT} characters is required"
    if not may_reveal(store, actor, roles, settings.reveal_roles):
        return (
            403,
            f"{actor} may not reveal identities (needs role {'/'.join(settings.reveal_roles)} or a grant)",
        )
    return 200, ""


def _refusal(
    store: Store,
    actor: str,
    roles: Iterable[str],
    case_id: int,
    pseudonym: str,
    reason_code: str,
    reason_text: str,
    settings: PrivacySettings,
) -> tuple[int, str]:
    """``(status, why)``; ``why`` is empty when the reveal may go ahead."""
    status, why = reason_refusal(store, actor, roles, reason_code, reason_text, settings)
    if why:
        return status, why
    if not is_pseudonym(pseudonym):
        return 400, "not a pseudonym"
    with store.read() as conn:
        item = conn.execute(
            select(items.c.id, items.c.account_key, items.c.channel_key)
            .join(cases, cases.c.item_id == items.c.id)
            .where(cases.c.id == case_id)
        ).first()
        if item is None:
            return 404, f"no case {case_id}"
        linked = (
            conn.execute(
                select(identity_refs.c.pseudonym).where(
                    identity_refs.c.item_id == item.id, identity_refs.c.pseudonym == pseudonym
                )
            ).first()
            or conn.execute(
                select(accounts.c.key).where(
                    accounts.c.key.in_([k for k in (item.account_key, item.channel_key) if k]),
                    or_(
                        accounts.c.native_id == pseudonym,
                        accounts.c.handle == pseudonym,
                        accounts.c.display_name == pseudonym,
                    ),
                )
            ).first()
        )
    if linked is None:
        return 404, f"{pseudonym} is not part of case {case_id}"
    return 200, ""


def case_identities(store: Store, case_id: int) -> list[Identity]:
    """The pseudonyms of a case (its item's account and channel, their handles and names, the account it
    was forwarded from, identifying meta fields), each once, in that order. No clear value."""
    case = store.get_case(case_id)
    item = store.get_item(case.item_id) if case is not None else None
    if item is None:
        raise RevealRefused(f"no case {case_id}", 404)
    found: dict[str, Identity] = {}

    def add(value: object, kind: str, role: str) -> None:
        text = str(value or "").split(":", 1)[-1]
        if is_pseudonym(text) and text not in found:
            found[text] = Identity(text, kind, role)

    for acc, name in ((item.account, "account"), (item.channel, "channel")):
        if acc is not None:
            add(acc.native_id, "account", name)
            add(acc.handle, "handle", f"{name} handle")
            add(acc.display_name, "name", f"{name} name")
    add(item.forwarded_from, "account", "forwarded from")
    for key, value in sorted(item.meta.items()):
        if isinstance(value, str) and is_pseudonym(value):
            add(value, _KIND_BY_TAG.get(value[2], "identifier"), f"meta {key}")
    return list(found.values())


_KIND_BY_TAG = {tag: kind for kind, tag in KIND_TAGS.items()}


def settings_of(store: Store) -> PrivacySettings:
    guard = store.identities
    return guard.settings if isinstance(guard, IdentityGuard) else PrivacySettings()


def reveal_report(
    store: Store, since: datetime | None = None, until: datetime | None = None
) -> dict[str, Any]:
    """Counts of reveals and refusals, by reason, by person and by case (or, for the free text of an audit
    entry or a history line, by record), for the DPO."""
    query = select(
        audit_log.c.at,
        audit_log.c.actor,
        audit_log.c.action,
        audit_log.c.target_type,
        audit_log.c.target_id,
        audit_log.c.details,
        audit_log.c.details_jcs,
    )
    query = query.where(audit_log.c.action.in_([ACTION, REFUSED]))
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if until is not None:
        query = query.where(audit_log.c.at < until)
    done: Counter[str] = Counter()
    by_actor: Counter[str] = Counter()
    by_case: Counter[str] = Counter()
    by_record: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    with store.read() as conn:
        for row in conn.execute(query.order_by(audit_log.c.id)).mappings():
            details = details_of(row)
            if row["action"] == ACTION:
                done[str(details.get("reason_code"))] += 1
                by_actor[row["actor"]] += 1
                if row["target_type"] == "case":
                    by_case[str(row["target_id"])] += 1
                else:  # the clear text of an audit entry or a history line (``reveal_record``)
                    by_record[f"{row['target_type']}:{row['target_id']}"] += 1
            else:
                refused[row["actor"]] += 1
    return {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "reveals": sum(done.values()),
        "by_reason": dict(sorted(done.items())),
        "by_actor": dict(sorted(by_actor.items())),
        "by_case": dict(sorted(by_case.items())),
        "by_record": dict(sorted(by_record.items())),
        "refused": sum(refused.values()),
        "refused_by_actor": dict(sorted(refused.items())),
    }


def check_reason_code(code: str) -> str:
    if code not in REASON_CODES:
        raise UsageError(f"unknown reason code {code!r}; known: {', '.join(REASON_CODES)}")
    return code


__all__ = [
    "REASON_CODES",
    "Identity",
    "PermissionDenied",
    "RevealRefused",
    "Revealed",
    "case_identities",
    "reveal",
    "reveal_report",
]
