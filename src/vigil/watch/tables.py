"""The watch table: one row per watched source, its schedule and its health."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Integer, String, Table, Text

from vigil.store.schema import metadata
from vigil.store.types import JsonType, UTCDateTime

watch_sources = Table(
    "watch_sources",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("target", Text, nullable=False),
    Column("fmt", String(32)),
    Column("interval_s", Float, nullable=False),
    Column("options", JsonType),
    Column("robots_override", Text),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_run_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("last_error", Text),
    Column("last_error_at", UTCDateTime),
    Column("consecutive_failures", Integer, nullable=False),
    Column("next_due_at", UTCDateTime, nullable=False),
    Column("items_total", Integer, nullable=False),
    Column("state", JsonType),
)
