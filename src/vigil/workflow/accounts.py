"""User accounts: argon2 password hashes, lock-out after repeated failures, opaque login tokens.

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
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from vigil.audit import log as audit
from vigil.core.model import utcnow
from vigil.errors import UsageError
from vigil.store import Store
from vigil.workflow.errors import AuthError
from vigil.workflow.roles import ROLES, is_role
from vigil.workflow.tables import auth_tokens, users

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
API_TOKEN_TTL = timedelta(hours=12)
SESSION_TTL = timedelta(hours=8)
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
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
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise UsageError(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
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
    """Check a password; count failures and lock the account after ``MAX_FAILURES`` in a row."""
    now = utcnow()
    with store.read() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    why = ""
    if row is None or not row["active"]:
        why = "unknown or inactive user"
        _spend_like_a_verify(password)
    elif row["locked_until"] is not None and row["locked_until"] > now:
        why = "account locked after repeated failures"
    else:
        try:
            _hasher.verify(row["password_hash"], password)
        except (VerificationError, InvalidHashError):
            why = "wrong password"
    target = username[:64]
    with store.write() as conn:
        if why:
            if row is not None and why == "wrong password":
                failures = row["failed_logins"] + 1
                values: dict[str, object] = {"failed_logins": failures}
                if failures >= MAX_FAILURES:
                    values.update(failed_logins=0, locked_until=now + LOCK_FOR)
                    why += f"; locked for {int(LOCK_FOR.total_seconds() // 60)} minutes"
                conn.execute(update(users).where(users.c.id == row["id"]).values(**values))
            audit.append_in(conn, target, "auth.login_failed", "user", target, {"via": via, "why": why})
        else:
            assert row is not None
            conn.execute(
                update(users).where(users.c.id == row["id"]).values(failed_logins=0, locked_until=None)
            )
            audit.append_in(conn, target, "auth.login", "user", target, {"via": via})
    if why:
        locked = "locked" in why
        raise AuthError("account locked; try again later" if locked else "wrong user name or password")
    assert row is not None
    return User(row["username"], row["role"])


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
