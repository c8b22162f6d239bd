"""The de-confliction gate: a "do not refer" list owned by investigators, checked before a case may move
to a referral, notice or order proposal.

Entries name a URL (normalised), a domain (and its subdomains), an account or channel (by pseudonym), or
a content hash (SHA-256 or PDQ, exact). Each has an owner, a reason and an expiry. A hit blocks the
transition, tells the analyst whom to contact (never why), notifies the owner and is audited. Only the
owner or an admin can lift an entry; only they see its reason.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from vigil.audit.log import append, append_in
from vigil.config import Config
from vigil.core.model import utcnow
from vigil.errors import UsageError, VigilError
from vigil.privacy.access import ADMIN, PermissionDenied
from vigil.privacy.dialect import insert
from vigil.privacy.holds import stored_account_key
from vigil.privacy.identities import IdentityGuard
from vigil.privacy.inputs import require_storable
from vigil.privacy.pseudonym import is_pseudonym
from vigil.privacy.settings import PrivacySettings
from vigil.privacy.tables import case_targets, dnr_entries, notifications
from vigil.privacy.urls import host_in_domain, normalise_host, normalise_url, url_host
from vigil.store import Store
from vigil.store.schema import accounts, cases, item_media, items

KINDS = ("url", "domain", "account", "channel", "sha256", "pdq")
_HEX64 = re.compile(r"[0-9a-f]{64}")


class DeconflictionBlocked(VigilError):
    """A case hit the do-not-refer list. Carries whom to contact, never the reason."""

    def __init__(self, case_id: int, blocks: Sequence[Block]) -> None:
        self.case_id = case_id
        self.blocks = list(blocks)
        self.contacts = sorted({b.contact for b in blocks})
        super().__init__(
            f"case {case_id} cannot go further until de-conflicted: contact {', '.join(self.contacts)}"
            f" (do-not-refer entr{'y' if len(blocks) == 1 else 'ies'}"
            f" {', '.join(str(b.entry_id) for b in blocks)})"
        )


@dataclass(frozen=True, slots=True)
class Block:
    entry_id: int
    kind: str
    contact: str


@dataclass(slots=True)
class Entry:
    id: int
    kind: str
    value: str
    owner: str
    created_at: datetime
    expires_at: datetime
    reason: str | None = None  # only filled for the owner or an admin
    lifted_at: datetime | None = None
    alt_value: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "value": self.value,
            "owner": self.owner,
            "reason": self.reason,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "lifted_at": self.lifted_at.isoformat() if self.lifted_at else None,
        }


@dataclass(slots=True)
class Facets:
    """What a case is made of, in the form entries are stored in."""

    urls: set[str] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)  # stored account keys and handle pseudonyms
    sha256: set[str] = field(default_factory=set)
    pdq: set[str] = field(default_factory=set)


FacetProvider = Callable[[Connection, int, Facets], None]


def normalise_entry(store: Store, kind: str, value: str) -> tuple[str, str | None]:
    """(value, alt_value) as stored. Accounts and channels become pseudonyms when the store uses them."""
    value = value.strip()
    if kind == "url":
        return normalise_url(value), None
    if kind == "domain":
        host = normalise_host(value.split("://", 1)[-1].split("/", 1)[0])
        if "." not in host or not re.fullmatch(r"[a-z0-9.-]+", host):
            raise UsageError(f"not a domain name: {value!r}")
        return host, None
    if kind in ("account", "channel"):
        key = stored_account_key(store, value)
        platform, rest = value.split(":", 1)
        guard = store.identities
        if is_pseudonym(rest):
            return key, None
        return key, guard.handle(platform, rest) if isinstance(guard, IdentityGuard) else rest.lstrip("@")
    if kind in ("sha256", "pdq"):
        digest = value.lower()
        if not _HEX64.fullmatch(digest):
            raise UsageError(f"a {kind} hash is 64 hexadecimal digits")
        return digest, None
    raise UsageError(f"unknown do-not-refer kind {kind!r}; known: {', '.join(KINDS)}")


def add_entry(
    store: Store,
    owner: str,
    kind: str,
    value: str,
    reason: str,
    expires_at: datetime,
    settings: PrivacySettings | None = None,
    now: datetime | None = None,
) -> Entry:
    settings = settings or PrivacySettings()
    now = now or utcnow()
    require_storable(owner=owner, value=value, reason=reason)
    if not reason.strip():
        raise UsageError("a do-not-refer entry needs a reason (seen only by its owner and admins)")
    if expires_at <= now:
        raise UsageError("the expiry must be in the future")
    if expires_at > now + timedelta(days=settings.dnr_max_days):
        raise UsageError(f"the expiry must be within {settings.dnr_max_days} days; renew it when it ends")
    stored, alt = normalise_entry(store, kind, value)
    with store.write() as conn:
        entry_id = conn.execute(
            dnr_entries.insert()
            .values(
                kind=kind,
                value=stored,
                alt_value=alt,
                owner=owner,
                reason=reason.strip(),
                created_at=now,
                expires_at=expires_at,
            )
            .returning(dnr_entries.c.id)
        ).scalar_one()
        append_in(
            conn,
            owner,
            "dnr.add",
            "dnr_entry",
            entry_id,
            {"kind": kind, "expires_at": expires_at.isoformat()},
        )
    return Entry(entry_id, kind, stored, owner, now, expires_at, reason.strip(), None, alt)


def list_entries(
    store: Store,
    viewer: str,
    roles: Iterable[str] = (),
    include_inactive: bool = False,
    now: datetime | None = None,
    owner: str | None = None,
) -> list[Entry]:
    """Entries (only ``owner``'s when given), with the reason only where ``viewer`` owns the entry or is an
    admin."""
    now = now or utcnow()
    admin = ADMIN in set(roles)
    query = select(dnr_entries).order_by(dnr_entries.c.id)
    if owner is not None:
        query = query.where(dnr_entries.c.owner == owner)
    if not include_inactive:
        query = query.where(dnr_entries.c.lifted_at.is_(None), dnr_entries.c.expires_at > now)
    with store.read() as conn:
        rows = list(conn.execute(query).mappings())
    return [
        Entry(
            r["id"],
            r["kind"],
            r["value"],
            r["owner"],
            r["created_at"],
            r["expires_at"],
            r["reason"] if admin or r["owner"] == viewer else None,
            r["lifted_at"],
            r["alt_value"],
        )
        for r in rows
    ]


def lift_entry(store: Store, actor: str, roles: Iterable[str], entry_id: int, note: str = "") -> None:
    require_storable(note=note)
    with store.read() as conn:
        row = conn.execute(select(dnr_entries).where(dnr_entries.c.id == entry_id)).mappings().first()
    if row is None or row["lifted_at"] is not None:
        raise UsageError(f"no active do-not-refer entry {entry_id}")
    if actor != row["owner"] and ADMIN not in set(roles):
        append(store, actor, "dnr.lift_refused", "dnr_entry", entry_id, {})
        raise PermissionDenied(f"only the owner ({row['owner']}) or an admin can lift entry {entry_id}")
    with store.write() as conn:
        conn.execute(
            update(dnr_entries)
            .where(dnr_entries.c.id == entry_id)
            .values(lifted_at=utcnow(), lifted_by=actor)
        )
        append_in(conn, actor, "dnr.lift", "dnr_entry", entry_id, {"note": note})


def case_facets(conn: Connection, case_id: int, providers: Sequence[FacetProvider] = ()) -> Facets:
    facets = Facets()
    item = conn.execute(
        select(items.c.id, items.c.url, items.c.account_key, items.c.channel_key, items.c.meta)
        .join(cases, cases.c.item_id == items.c.id)
        .where(cases.c.id == case_id)
    ).first()
    if item is None:
        raise UsageError(f"no case {case_id}")
    if item.url:
        with contextlib.suppress(UsageError):
            facets.urls.add(normalise_url(item.url))
    for kind, value in conn.execute(
        select(case_targets.c.kind, case_targets.c.value).where(case_targets.c.case_id == case_id)
    ):
        (facets.urls if kind == "url" else facets.sha256).add(value)
    keys = [k for k in (item.account_key, item.channel_key) if k]
    if keys:
        facets.accounts.update(keys)
        for handle in conn.execute(select(accounts.c.handle).where(accounts.c.key.in_(keys))).scalars():
            if handle:
                facets.accounts.add(handle)
    facets.sha256.update(
        conn.execute(select(item_media.c.sha256).where(item_media.c.item_id == item.id)).scalars()
    )
    meta = item.meta or {}
    for key, target in (("sha256", facets.sha256), ("pdq", facets.pdq)):
        found = meta.get(key)
        for value in found if isinstance(found, list) else [found]:
            if isinstance(value, str) and _HEX64.fullmatch(value.lower()):
                target.add(value.lower())
    for provide in providers:
        provide(conn, case_id, facets)
    return facets


def check_case(
    store: Store, case_id: int, now: datetime | None = None, providers: Sequence[FacetProvider] = ()
) -> list[Block]:
    """The active entries this case hits (empty: free to go)."""
    now = now or utcnow()
    with store.read() as conn:
        facets = case_facets(conn, case_id, providers)
        entries = list(
            conn.execute(
                select(
                    dnr_entries.c.id,
                    dnr_entries.c.kind,
                    dnr_entries.c.value,
                    dnr_entries.c.alt_value,
                    dnr_entries.c.owner,
                )
                .where(dnr_entries.c.lifted_at.is_(None), dnr_entries.c.expires_at > now)
                .order_by(dnr_entries.c.id)
            )
        )
    hosts = {url_host(u) for u in facets.urls}
    blocks: list[Block] = []
    for entry_id, kind, value, alt, owner in entries:
        hit = (
            (kind == "url" and value in facets.urls)
            or (kind == "domain" and any(host_in_domain(h, value) for h in hosts))
            or (
                kind in ("account", "channel")
                and (value in facets.accounts or (alt or "\0") in facets.accounts)
            )
            or (kind == "sha256" and value in facets.sha256)
            or (kind == "pdq" and value in facets.pdq)
        )
        if hit:
            blocks.append(Block(entry_id, kind, owner))
    return blocks


def record_block(store: Store, case_id: int, actor: str, to_state: str, blocks: Sequence[Block]) -> None:
    """Notify each owner (once per entry and case; repeats count up) and audit the block."""
    now = utcnow()
    with store.write() as conn:
        for block in blocks:
            stmt = insert(conn, notifications).values(
                recipient=block.contact,
                kind="dnr_block",
                case_id=case_id,
                entry_id=block.entry_id,
                actor=actor,
                message=(
                    f"{actor} tried to move case {case_id} to {to_state}; your do-not-refer entry"
                    f" {block.entry_id} stopped it and they were told to contact you."
                ),
                attempts=1,
                created_at=now,
                last_at=now,
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["recipient", "kind", "case_id", "entry_id"],
                    set_={
                        "attempts": notifications.c.attempts + 1,
                        "last_at": now,
                        "actor": actor,
                        "read_at": None,
                        "delivered_at": None,
                        "mail_delivered_at": None,
                        "mail_next_at": None,
                    },
                )
            )
        append_in(
            conn,
            actor,
            "dnr.block",
            "case",
            case_id,
            {
                "to_state": to_state,
                "entries": [b.entry_id for b in blocks],
                "contacts": sorted({b.contact for b in blocks}),
            },
        )


class DeconflictionGate:
    """A pre-transition hook: ``gate(store, case_id, from_state, to_state, actor)`` raises
    ``DeconflictionBlocked`` when the case may not go to ``to_state``. Call it before opening the
    transition's own write transaction (it writes the notification and the audit entry itself)."""

    def __init__(
        self, settings: PrivacySettings | None = None, providers: Sequence[FacetProvider] = ()
    ) -> None:
        self.settings = settings or PrivacySettings()
        self.providers = tuple(providers)

    @classmethod
    def from_config(cls, config: Config, providers: Sequence[FacetProvider] = ()) -> DeconflictionGate:
        return cls(PrivacySettings.from_config(config), providers)

    def __call__(self, store: Store, case_id: int, from_state: str | None, to_state: str, actor: str) -> None:
        if str(to_state) not in self.settings.gated_states:
            return
        blocks = check_case(store, case_id, providers=self.providers)
        if blocks:
            record_block(store, case_id, actor, str(to_state), blocks)
            raise DeconflictionBlocked(case_id, blocks)


def deconfliction_hook(store: Store, case_id: int, from_state: str | None, to_state: str, actor: str) -> None:
    """The gate with the settings the store was opened with (default gated states otherwise)."""
    guard = store.identities
    settings = guard.settings if isinstance(guard, IdentityGuard) else PrivacySettings()
    DeconflictionGate(settings)(store, case_id, from_state, to_state, actor)


def pending_notifications(store: Store, recipient: str) -> list[dict[str, Any]]:
    with store.read() as conn:
        rows = conn.execute(
            select(notifications)
            .where(notifications.c.recipient == recipient, notifications.c.read_at.is_(None))
            .order_by(notifications.c.id)
        ).mappings()
        return [dict(r) for r in rows]


def transition_check(store: Store | None, request: Any) -> str | None:
    """The gate as a workflow pre-transition check (entry point ``vigil.transition_checks``).

    ``workflow.transition`` runs checks before it opens its own write transaction, so the gate may notify
    the owner and audit the block here. ``transition_in`` (the caller holds a transaction) passes no store:
    there the gate cannot run, and callers must run ``deconfliction_hook`` themselves first.
    """
    if store is None:
        return None
    try:
        deconfliction_hook(store, request.case.id, str(request.case.state), str(request.to), request.actor)
    except DeconflictionBlocked as exc:
        return str(exc)
    return None
