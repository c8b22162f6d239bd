"""The processing register: what personal data vigil holds, per class, with counts, retention, the legal
basis as configured, and who did what to it (from the audit log). The material a data-protection impact
assessment starts from."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, exists, func, not_, select

from vigil.audit.log import audit_log
from vigil.core.model import utcnow
from vigil.privacy.identities import IdentityGuard
from vigil.privacy.reveal import reveal_report
from vigil.privacy.settings import PrivacySettings, RetentionPolicy
from vigil.privacy.tables import case_submitters, dnr_entries, identity_vault, legal_holds
from vigil.store import Store
from vigil.store.schema import accounts, cases, items, media

NOT_CONFIGURED = "not configured"


@dataclass(frozen=True, slots=True)
class DataClass:
    name: str
    holds: str
    retention: str
    count: Callable[[Connection], int]


def _count(table: Any, *where: Any) -> Callable[[Connection], int]:
    def run(conn: Connection) -> int:
        query = select(func.count()).select_from(table)
        return int(conn.execute(query.where(*where) if where else query).scalar_one())

    return run


def data_classes(policy: RetentionPolicy, pseudonymised: bool) -> list[DataClass]:
    ident = "pseudonyms (HMAC-SHA256)" if pseudonymised else "IN CLEAR (pseudonymisation is off)"
    has_case = exists().where(cases.c.item_id == items.c.id)
    return [
        DataClass(
            "raw_items",
            "collected posts that never became a case: content text, URL, links, account pseudonyms",
            f"{policy.raw_items_days} days after collection",
            _count(items, not_(has_case)),
        ),
        DataClass(
            "open_cases",
            "cases awaiting triage and their items",
            "kept while open",
            _count(cases, cases.c.state.in_(["new", "triage"])),
        ),
        DataClass(
            "dismissed_cases",
            "cases dismissed as not terrorist content, and their items",
            f"{policy.dismissed_cases_days} days after the last update",
            _count(cases, cases.c.state == "dismissed"),
        ),
        DataClass(
            "confirmed_cases",
            "confirmed cases (decisions, referrals, orders) and their items",
            f"{policy.confirmed_cases_days} days after the last update",
            _count(cases, cases.c.state.not_in(["new", "triage", "dismissed"])),
        ),
        DataClass(
            "accounts",
            f"posting accounts and channels: ids, handles, display names as {ident}",
            "while an item refers to them",
            _count(accounts),
        ),
        DataClass(
            "identity_vault",
            "clear identifiers behind pseudonyms, AES-GCM encrypted, read only by audited reveals",
            "while an item refers to them",
            _count(identity_vault),
        ),
        DataClass(
            "media",
            "images, video, audio, documents collected with items",
            "while an item links them",
            _count(media),
        ),
        DataClass(
            "evidence",
            "evidence packages of removed content (takedown module)",
            f"{policy.evidence_after_removal_days} days after removal",
            lambda conn: -1,
        ),
        DataClass(
            "case_submitters",
            "staff and partner organisations who reported content",
            "with their case",
            _count(case_submitters),
        ),
        DataClass(
            "dnr_entries",
            "do-not-refer entries: investigators, targets (URLs, domains, account pseudonyms, hashes)",
            "until expiry or lift (then kept for the record)",
            _count(dnr_entries, and_(dnr_entries.c.lifted_at.is_(None))),
        ),
        DataClass(
            "audit_log",
            "who did what, when (staff names, case ids, pseudonyms)",
            "never deleted",
            _count(audit_log),
        ),
    ]


def processing_register(
    store: Store,
    settings: PrivacySettings | None = None,
    policy: RetentionPolicy | None = None,
    extra_counts: dict[str, Callable[[Connection], int]] | None = None,
    now: datetime | None = None,
    access_actions: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The register as a JSON-safe dict. ``extra_counts`` lets a feature count its own class (e.g. the
    takedown module counts ``evidence``); a class with no counter shows ``count: null``."""
    guard = store.identities
    settings = settings or (
        guard.settings if isinstance(guard, IdentityGuard) else PrivacySettings(pseudonymise=False)
    )
    policy = policy or RetentionPolicy()
    counters = dict(extra_counts or {})
    classes = []
    with store.read() as conn:
        for dc in data_classes(policy, isinstance(guard, IdentityGuard)):
            counter = counters.get(dc.name, dc.count)
            value = counter(conn)
            classes.append(
                {
                    "class": dc.name,
                    "holds": dc.holds,
                    "count": None if value < 0 else value,
                    "retention": dc.retention,
                    "legal_basis": settings.legal_basis.get(dc.name, NOT_CONFIGURED),
                }
            )
        held = conn.execute(
            select(legal_holds.c.target_type, func.count())
            .where(legal_holds.c.lifted_at.is_(None))
            .group_by(legal_holds.c.target_type)
        ).all()
        query = select(
            audit_log.c.actor,
            audit_log.c.action,
            audit_log.c.target_type,
            func.count(),
            func.max(audit_log.c.at),
        ).group_by(audit_log.c.actor, audit_log.c.action, audit_log.c.target_type)
        if access_actions:
            query = query.where(audit_log.c.action.in_(list(access_actions)))
        access = [
            {
                "actor": a,
                "action": act,
                "target_type": tt,
                "count": int(n),
                "last_at": last.isoformat() if last else None,
            }
            for a, act, tt, n, last in conn.execute(query.order_by(audit_log.c.actor, audit_log.c.action))
        ]
    return {
        "generated_at": (now or utcnow()).isoformat(),
        "pseudonymisation": {
            "enabled": isinstance(guard, IdentityGuard),
            "keys": guard.key_sources() if isinstance(guard, IdentityGuard) else {},
        },
        "classes": classes,
        "legal_holds": {t: int(n) for t, n in held},
        "reveals": reveal_report(store),
        "access": access,
    }
