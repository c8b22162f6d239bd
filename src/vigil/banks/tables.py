"""The bank tables, on the shared metadata (migrations: banks_0001_tables, banks_0002_entry_items)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, PrimaryKeyConstraint, String, Table, Text

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

#: Which items each entry has matched, once each: the flood guard counts an item's match once however
#: often the item is scored (a scan killed after matching and before storing its detection, then rescanned;
#: a queue message delivered twice).
bank_entry_items = Table(
    "bank_entry_items",
    metadata,
    Column("entry_id", Integer, ForeignKey("bank_entries.id", ondelete="CASCADE"), nullable=False),
    Column("item_id", String(32), nullable=False),
    PrimaryKeyConstraint("entry_id", "item_id", name="pk_bank_entry_items"),
)
