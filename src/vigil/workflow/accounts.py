"""User accounts: argon2 password hashes, lock-out after repeated failures, opaque login tokens.

Lock-out holds under concurrent attempts: each attempt first claims one of the account's
``MAX_FAILURES`` tries in a single ``UPDATE ... RETURNING`` (the database serialises them on the row), and
only then is the password checked. So however many attempts arrive at once, at most ``MAX_FAILURES``
passwords are checked before the account locks; a success gives the tries back.

A token (API bearer token or UI session) is a random string given to the client once; the store keeps
only its SHA-256, so a copy of the database does not let anyone log in. Every login, failed or not, is
audited.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from vigil.audit import log as audit
from vigil.core.model import utcnow
from vigil.errors import UsageError
from vigil.store import Store
from vigil.workflow.errors import AuthError
from vigil.workflow.passwords import MAX_PASSWORD, MIN_PASSWORD, check_password
from vigil.workflow.roles import ROLES, is_role
from vigil.workflow.tables import auth_tokens, users

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
API_TOKEN_TTL = timedelta(hours=12)
SESSION_TTL = timedelta(hours=8)
__all__ = ["MAX_PASSWORD", "MIN_PASSWORD"]  # re-exported: the API's body model bounds its field with them
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

_hasher = PasswordHasher()


@dataclass(slots=True, frozen=True)
class User:
    username: str
    role: str


@dataclass(slots=True, frozen=True)
class Token:
    value: str
    username: str
    kind: str
    csrf: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def add_user(
    store: Store,
    username: str,
    role: str,
    password: str,
    actor: str = "cli",
    hasher: PasswordHasher | None = None,
) -> User:
    """Add an account. ``hasher`` overrides argon2's parameters (tests use cheap ones; a hash records its
    own parameters, so verification follows whatever made it)."""
    if not USERNAME.match(username):
        raise UsageError(
            "user names are 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if not is_role(role):
        raise UsageError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    check_password(password, username)
    row = {
        "username": username,
        "role": role,
        "password_hash": (hasher or _hasher).hash(password),
        "active": True,
        "failed_logins": 0,
        "created_at": utcnow(),
    }
    try:
        with store.write() as conn:
            conn.execute(users.insert().values(**row))
            audit.append_in(conn, actor, "user.add", "user", username, {"role": role})
    except IntegrityError:
        raise UsageError(f"user {username!r} exists already") from None
    return User(username, role)


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_hex(16))


def _spend_like_a_verify(password: str) -> None:
    """Take as long as a real check, so response times do not reveal which user names exist."""
    with contextlib.suppress(VerificationError, InvalidHashError):
        _hasher.verify(_dummy_hash(), password)


def get_user(store: Store, username: str) -> User | None:
    with store.read() as conn:
        row = conn.execute(
            select(users.c.username, users.c.role).where(users.c.username == username, users.c.active)
        ).first()
    return User(row[0], row[1]) if row else None


def list_users(store: Store) -> list[User]:
    with store.read() as conn:
        rows = conn.execute(select(users.c.username, users.c.role).order_by(users.c.username))
        return [User(r[0], r[1]) for r in rows]


def authenticate(store: Store, username: str, password: str, via: str = "api") -> User:
    """Check a password; lock the account for ``LOCK_FOR`` after ``MAX_FAILURES`` failures in a row.

    The try is claimed before the (slow) password check, atomically: ``failed_logins`` counts tries not
    (yet) proven right, and a try past ``MAX_FAILURES`` is refused unchecked and locks the account, so
    concurrent attempts cannot each read the same count and slip past the lock."""
    now = utcnow()
    target = username[:64]
    with store.write() as conn:
        claimed = conn.execute(
            update(users)
            .where(
                users.c.username == username,
                users.c.active,
                or_(users.c.locked_until.is_(None), users.c.locked_until <= now),
            )
            .values(failed_logins=users.c.failed_logins + 1)
            .returning(users.c.id, users.c.failed_logins, users.c.password_hash, users.c.role)
        ).first()
        active = claimed is not None or bool(
            conn.execute(select(users.c.id).where(users.c.username == username, users.c.active)).first()
        )
    why, lock = "", False
    if not active:
        why = "unknown or inactive user"
        _spend_like_a_verify(password)
    elif claimed is None or claimed.failed_logins > MAX_FAILURES:
        why, lock = "account locked after repeated failures", claimed is not None
    else:
        try:
            _hasher.verify(claimed.password_hash, password)
        except (VerificationError, InvalidHashError):
            why = "wrong password"
            if claimed.failed_logins >= MAX_FAILURES:
                lock = True
                why += f"; locked for {int(LOCK_FOR.total_seconds() // 60)} minutes"
    with store.write() as conn:
        if claimed is not None and lock:
            conn.execute(
                update(users)
                .where(users.c.id == claimed.id)
                .values(failed_logins=0, locked_until=now + LOCK_FOR)
            )
        elif claimed is not None and not why:
            conn.execute(
                update(users).where(users.c.id == claimed.id).values(failed_logins=0, locked_until=None)
            )
        if why:
            audit.append_in(conn, target, "auth.login_failed", "user", target, {"via": via, "why": why})
        else:
            audit.append_in(conn, target, "auth.login", "user", target, {"via": via})
    if why:
        locked = "locked" in why
        raise AuthError("account locked; try again later" if locked else "wrong user name or password")
    assert claimed is not None
    return User(username, claimed.role)


def issue_token(store: Store, user: User, kind: str = "api") -> Token:
    value = secrets.token_urlsafe(32)
    now = utcnow()
    ttl = SESSION_TTL if kind == "session" else API_TOKEN_TTL
    token = Token(value, user.username, kind, secrets.token_urlsafe(24), now + ttl)
    with store.write() as conn:
        conn.execute(delete(auth_tokens).where(auth_tokens.c.expires_at < now))
        conn.execute(
            auth_tokens.insert().values(
                token_hash=_digest(value),
                username=user.username,
                kind=kind,
                csrf=token.csrf,
                created_at=now,
                expires_at=token.expires_at,
            )
        )
    return token


def resolve_token(store: Store, value: str, kind: str) -> tuple[User, str] | None:
    """The user a live token belongs to, and the token's CSRF secret; ``None`` if unknown or expired."""
    if not value or len(value) > 256:
        return None
    with store.read() as conn:
        row = conn.execute(
            select(users.c.username, users.c.role, auth_tokens.c.csrf, auth_tokens.c.expires_at)
            .join(users, users.c.username == auth_tokens.c.username)
            .where(auth_tokens.c.token_hash == _digest(value), auth_tokens.c.kind == kind, users.c.active)
        ).first()
    if row is None or row[3] <= utcnow():
        return None
    return User(row[0], row[1]), row[2] or ""


def revoke_token(store: Store, value: str) -> None:
    with store.write() as conn:
        conn.execute(delete(auth_tokens).where(auth_tokens.c.token_hash == _digest(value)))
