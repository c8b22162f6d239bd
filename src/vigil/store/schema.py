"""The core tables. Feature packages add their own tables to the same ``metadata``."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from vigil.store.types import JsonType, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

accounts = Table(
    "accounts",
    metadata,
    Column("key", String(512), primary_key=True),
    Column("platform", String(64), nullable=False),
    Column("native_id", String(256)),
    Column("handle", String(256)),
    Column("display_name", String(512)),
    Column("is_channel", Boolean, nullable=False, default=False),
    Column("first_seen", UTCDateTime, nullable=False),
)

items = Table(
    "items",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("source", String(64), nullable=False),
    Column("native_id", String(512)),
    Column("text", Text, nullable=False),
    Column("html", Text),
    Column("url", Text),
    Column("account_key", String(512)),
    Column("channel_key", String(512)),
    Column("published", UTCDateTime),
    Column("lang", String(16)),
    Column("reply_to", String(512)),
    Column("forwarded_from", String(512)),
    Column("origin_source", Text),
    Column("origin_location", String(256)),
    Column("links", JsonType),
    Column("meta", JsonType),
    Column("ingested_at", UTCDateTime, nullable=False),
    #: When the item's signals and cases were stored (NULL: stored, not yet scored).
    Column("detected_at", UTCDateTime),
    Index("ix_items_published", "published"),
    Index("ix_items_account_key", "account_key"),
    Index("ix_items_ingested_at", "ingested_at"),
)

media = Table(
    "media",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("mime", String(128), nullable=False),
    Column("size", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
)

item_media = Table(
    "item_media",
    metadata,
    Column("item_id", String(32), ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("sha256", String(64), ForeignKey("media.sha256"), primary_key=True),
    Column("name", Text),
    Column("url", Text),
    Index("ix_item_media_sha256", "sha256"),
)

signals = Table(
    "signals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(32), ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("detector", String(64), nullable=False),
    Column("score", Float, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("reasons", JsonType),
    Column("version", String(64)),
    Column("meta", JsonType),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("item_id", "detector", name="uq_signals_item_detector"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(32), ForeignKey("items.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("state", String(32), nullable=False),
    Column("severity", String(32), nullable=False),
    Column("score", Float, nullable=False),
    Column("title", Text),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("meta", JsonType),
    Index("ix_cases_queue", "state", "severity", "opened_at"),
)

case_events = Table(
    "case_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("from_state", String(32)),
    Column("to_state", String(32), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("reason", Text),
    Column("at", UTCDateTime, nullable=False),
    Column("meta", JsonType),
    Index("ix_case_events_case", "case_id"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", Text, nullable=False),
    Column("location", String(256), nullable=False),
    Column("reason", Text, nullable=False),
    Column("excerpt", Text),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("source", "location", name="uq_quarantine_source_location"),
)

scans = Table(
    "scans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target", Text, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("summary", JsonType),
)
