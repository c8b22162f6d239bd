"""The bank tables, on the shared metadata (migration: banks_0001_tables)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from vigil.banks.model import MAX_SOURCE_ID
from vigil.store.schema import metadata
from vigil.store.types import JsonType, UTCDateTime

banks = Table(
    "banks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("threshold", Integer, nullable=False),
    Column("negative", Boolean, nullable=False, default=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("description", Text),
    Column("version", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

bank_entries = Table(
    "bank_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bank_id", Integer, ForeignKey("banks.id", ondelete="CASCADE"), nullable=False),
    Column("signal_type", String(16), nullable=False),
    Column("value", Text, nullable=False),
    Column("frames", JsonType),
    Column("source", String(256)),
    Column("source_id", String(MAX_SOURCE_ID)),
    Column("meta", JsonType),
    Column("first_seen", UTCDateTime),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("quarantined", Boolean, nullable=False, default=False),
    Column("review_reason", Text),
    Column("match_count", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_bank_entries_bank", "bank_id", "signal_type"),
    Index("ix_bank_entries_value", "signal_type", "value"),
)
