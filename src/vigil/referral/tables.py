"""The referral tables: provider cache, documents, replies, deliveries, watched URLs, re-checks and the
fallback bank of removed media."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Table, Text

from vigil.store.schema import metadata
from vigil.store.types import JsonType, UTCDateTime

provider_cache = Table(
    "provider_cache",
    metadata,
    Column("key", String(512), primary_key=True),
    Column("data", JsonType, nullable=False),
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

referral_documents = Table(
    "referral_documents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, nullable=False),
    Column("kind", String(32), nullable=False),  # removal_order | voluntary_referral | dsa_notice
    Column("reference", String(128), nullable=False, unique=True),
    Column("provider", String(256)),
    Column("urls", JsonType, nullable=False),
    Column("body", JsonType, nullable=False),
    Column("lang", String(8), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("status", String(32), nullable=False),
    Column("received_at", UTCDateTime),
    Column("deadline_at", UTCDateTime),
    Index("ix_referral_documents_case", "case_id"),
)

referral_replies = Table(
    "referral_replies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document_id", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("recorded_by", String(128), nullable=False),
    Column("data", JsonType),
    Index("ix_referral_replies_document", "document_id"),
)

referral_deliveries = Table(
    "referral_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document_id", Integer, nullable=False),
    Column("channel", String(16), nullable=False),  # email | webhook | batch
    Column("target", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("details", JsonType),
)

watched_urls = Table(
    "watched_urls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, nullable=False),
    Column("document_id", Integer),
    Column("url", Text, nullable=False),
    Column("host", String(256), nullable=False),
    Column("provider", String(256)),
    Column("status", String(16), nullable=False),  # up | removed | geo_blocked | reappeared | error
    Column("baseline_sha256", String(64)),
    Column("marker", Text),
    Column("referred_at", UTCDateTime, nullable=False),
    Column("next_check_at", UTCDateTime, nullable=False),
    Column("last_checked_at", UTCDateTime),
    Column("removed_at", UTCDateTime),
    Column("reappeared_at", UTCDateTime),
    Column("time_to_removal_s", Float),
    Index("ix_watched_urls_due", "next_check_at"),
    Index("ix_watched_urls_case", "case_id"),
)

recheck_results = Table(
    "recheck_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("watch_id", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("http_status", Integer),
    Column("content_sha256", String(64)),
    Column("shows_item", Boolean),
    Column("outcome", String(16), nullable=False),
    Column("error", Text),
    Index("ix_recheck_results_watch", "watch_id"),
)

removed_media = Table(
    "removed_media",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("path", Text),
    Column("case_id", Integer),
    Column("url", Text),
    Column("meta", JsonType),
    Column("added_at", UTCDateTime, nullable=False),
)
