"""Who may do what in this package. Roles are plain strings (the workflow package defines users and
roles); a right can also be granted to one person (e.g. a ``verifier`` allowed to reveal)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select

from vigil.audit.log import append_in
from vigil.core.model import utcnow
from vigil.errors import VigilError
from vigil.privacy.dialect import insert
from vigil.privacy.tables import privacy_grants
from vigil.store import Store

ADMIN = "admin"
DPO = "dpo"
REVEAL = "reveal"
PRIVILEGES = (REVEAL,)


class PermissionDenied(VigilError):
    """The actor does not hold the role or grant this needs."""


def has_grant(store: Store, actor: str, privilege: str) -> bool:
    with store.read() as conn:
        row = conn.execute(
            select(privacy_grants.c.actor).where(
                privacy_grants.c.actor == actor, privacy_grants.c.privilege == privilege
            )
        ).first()
    return row is not None


def may_reveal(store: Store, actor: str, roles: Iterable[str], reveal_roles: Iterable[str] = (DPO,)) -> bool:
    return bool(set(roles) & set(reveal_roles)) or has_grant(store, actor, REVEAL)


def grant(store: Store, actor: str, roles: Iterable[str], grantee: str, privilege: str = REVEAL) -> None:
    """A DPO or an admin grants ``privilege`` to ``grantee``; audited."""
    _require_manager(actor, roles, privilege)
    with store.write() as conn:
        conn.execute(
            insert(conn, privacy_grants)
            .values(actor=grantee, privilege=privilege, granted_by=actor, granted_at=utcnow())
            .on_conflict_do_nothing()
        )
        append_in(conn, actor, "privacy.grant", "user", grantee, {"privilege": privilege})


def revoke(store: Store, actor: str, roles: Iterable[str], grantee: str, privilege: str = REVEAL) -> bool:
    _require_manager(actor, roles, privilege)
    with store.write() as conn:
        gone = conn.execute(
            delete(privacy_grants).where(
                privacy_grants.c.actor == grantee, privacy_grants.c.privilege == privilege
            )
        ).rowcount
        append_in(conn, actor, "privacy.revoke", "user", grantee, {"privilege": privilege, "had": bool(gone)})
    return bool(gone)


def _require_manager(actor: str, roles: Iterable[str], privilege: str) -> None:
    if privilege not in PRIVILEGES:
        raise PermissionDenied(f"unknown privilege {privilege!r}; known: {', '.join(PRIVILEGES)}")
    if not {ADMIN, DPO} & set(roles):
        raise PermissionDenied(f"{actor}: only a dpo or an admin can grant or revoke {privilege!r}")
