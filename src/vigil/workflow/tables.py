"""The workflow's own tables (users, login tokens, settings) and the queue indexes on ``cases``."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, String, Table

from vigil.store.schema import cases, metadata
from vigil.store.types import JsonType, UTCDateTime

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(256), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
)

auth_tokens = Table(
    "auth_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # "api" | "session"
    Column("csrf", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_auth_tokens_username", "username"),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("value", JsonType),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(64), nullable=False),
)

# Keyset pagination of the queue: (filter columns..., opened_at, id).
QUEUE_INDEXES = (
    Index("ix_cases_opened", cases.c.opened_at, cases.c.id),
    Index("ix_cases_state_opened", cases.c.state, cases.c.opened_at, cases.c.id),
    Index("ix_cases_severity_opened", cases.c.severity, cases.c.opened_at, cases.c.id),
)
