"""The watch tables: one row per watched source (its schedule, health and lease), and its runs."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Index, Integer, String, Table, Text, text

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
    #: The process running this source now (``vigil.watch.lease``), and until when (the database's clock)
    #: its lease holds.
    Column("lease_owner", String(200)),
    Column("lease_until", UTCDateTime),
    #: Moved on by every take of the lease: renewals and the run's outcome are accepted only with it.
    Column("lease_generation", Integer, nullable=False, server_default=text("0")),
)

watch_runs = Table(
    "watch_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_id", Integer, ForeignKey("watch_sources.id", ondelete="CASCADE"), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("items", Integer, nullable=False),
    Column("new_items", Integer, nullable=False),
    Column("cases", Integer, nullable=False),
    Column("error", Text),
    Index("ix_watch_runs_source_id", "source_id", "id"),
)
