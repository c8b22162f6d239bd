"""Legal holds: items, cases, accounts or evidence captures that retention must not delete, whatever their
age. The one hold concept of vigil: every data class (the evidence store's included) checks these.

A hold on a case keeps its item and its evidence; a hold on an item keeps its case; a hold on an account
(its stored, pseudonymised key) keeps every item it posted or channelled, and their cases; a hold on a
capture keeps that evidence capture.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, exists, or_, select, update

from vigil.audit.log import append, append_in
from vigil.core.model import utcnow
from vigil.errors import UsageError
from vigil.privacy.access import ADMIN, PermissionDenied
from vigil.privacy.identities import IdentityGuard
from vigil.privacy.inputs import require_storable
from vigil.privacy.tables import legal_holds
from vigil.store import Store
from vigil.store.schema import accounts, cases, items

TARGETS = ("item", "case", "account", "capture")


@dataclass(slots=True)
class Hold:
    id: int
    target_type: str
    target_id: str
    owner: str
    reason: str
    created_at: datetime
    lifted_at: datetime | None
    lifted_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "owner": self.owner,
            "reason": self.reason,
            "created_at": self.created_at.isoformat(),
            "lifted_at": self.lifted_at.isoformat() if self.lifted_at else None,
            "lifted_by": self.lifted_by,
        }


def stored_account_key(store: Store, key: str) -> str:
    """The key as the store keeps it: ``platform:handle`` becomes ``platform:psa_...`` when pseudonymised."""
    if ":" not in key:
        raise UsageError("an account is given as platform:id-or-handle (or platform:pseudonym)")
    guard = store.identities
    return guard.account_key(key) if isinstance(guard, IdentityGuard) else key


def resolve_account(store: Store, value: str) -> str:
    """The stored key of the account ``value`` names (``platform:id``, ``platform:handle`` or
    ``platform:pseudonym``). A handle finds an account stored under its native id too."""
    key = stored_account_key(store, value)
    platform, rest = value.split(":", 1)
    guard = store.identities
    handle = guard.handle(platform, rest) if isinstance(guard, IdentityGuard) else rest.lstrip("@")
    with store.read() as conn:
        if conn.execute(select(accounts.c.key).where(accounts.c.key == key)).first() is not None:
            return key
        by_handle = conn.execute(
            select(accounts.c.key)
            .where(accounts.c.platform == platform, accounts.c.handle == handle)
            .order_by(accounts.c.key)
            .limit(1)
        ).scalar()
    return str(by_handle) if by_handle else key


def add_hold(store: Store, actor: str, target_type: str, target_id: str, reason: str) -> Hold:
    if target_type not in TARGETS:
        raise UsageError(f"a hold is on one of {', '.join(TARGETS)}, not {target_type!r}")
    require_storable(target_id=target_id, reason=reason)
    if not reason.strip():
        raise UsageError("a legal hold needs a reason (e.g. the proceedings' reference)")
    if target_type == "account":
        target_id = resolve_account(store, target_id)
    now = utcnow()
    with store.write() as conn:
        hold_id = conn.execute(
            legal_holds.insert()
            .values(
                target_type=target_type,
                target_id=str(target_id),
                owner=actor,
                reason=reason.strip(),
                created_at=now,
            )
            .returning(legal_holds.c.id)
        ).scalar_one()
        append_in(conn, actor, "hold.add", target_type, target_id, {"hold_id": hold_id})
    return Hold(hold_id, target_type, str(target_id), actor, reason.strip(), now, None)


def lift_hold(store: Store, actor: str, roles: Iterable[str], hold_id: int) -> None:
    with store.read() as conn:
        row = conn.execute(select(legal_holds).where(legal_holds.c.id == hold_id)).mappings().first()
    if row is None or row["lifted_at"] is not None:
        raise UsageError(f"no active legal hold {hold_id}")
    if actor != row["owner"] and ADMIN not in set(roles):
        append(store, actor, "hold.lift_refused", "hold", hold_id, {})
        raise PermissionDenied(f"only {row['owner']} or an admin can lift legal hold {hold_id}")
    with store.write() as conn:
        conn.execute(
            update(legal_holds).where(legal_holds.c.id == hold_id).values(lifted_at=utcnow(), lifted_by=actor)
        )
        append_in(conn, actor, "hold.lift", row["target_type"], row["target_id"], {"hold_id": hold_id})


def list_holds(store: Store, include_lifted: bool = False) -> list[Hold]:
    query = select(legal_holds).order_by(legal_holds.c.id)
    if not include_lifted:
        query = query.where(legal_holds.c.lifted_at.is_(None))
    with store.read() as conn:
        return [Hold(**dict(r)) for r in conn.execute(query).mappings()]


def active_hold(target_type: str, target: Any) -> ColumnElement[bool]:
    """True where a hold in force names ``target`` (a column or value, compared as text)."""
    return exists().where(
        legal_holds.c.lifted_at.is_(None),
        legal_holds.c.target_type == target_type,
        legal_holds.c.target_id == target,
    )


def item_held() -> ColumnElement[bool]:
    """True for an ``items`` row under a hold: on itself, its case, or its account or channel."""
    case_held = exists().where(
        cases.c.item_id == items.c.id,
        legal_holds.c.lifted_at.is_(None),
        legal_holds.c.target_type == "case",
        legal_holds.c.target_id == _as_text(cases.c.id),
    )
    return or_(
        active_hold("item", items.c.id),
        active_hold("account", items.c.account_key),
        active_hold("account", items.c.channel_key),
        case_held,
    )


def case_held() -> ColumnElement[bool]:
    """True for a ``cases`` row under a hold (itself, its item, the item's account or channel)."""
    item_side = exists().where(
        and_(items.c.id == cases.c.item_id),
        or_(
            active_hold("item", items.c.id),
            active_hold("account", items.c.account_key),
            active_hold("account", items.c.channel_key),
        ),
    )
    return or_(active_hold("case", _as_text(cases.c.id)), item_side)


def _as_text(column: Any) -> Any:
    return cast(column, String)
