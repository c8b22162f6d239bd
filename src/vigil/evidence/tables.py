"""The evidence store's tables: captures, the blobs they consist of and the deletion log. Legal holds on
cases and captures are ``vigil.privacy.tables.legal_holds`` (one hold concept for every data class)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from vigil.store.schema import metadata
from vigil.store.types import JsonType, UTCDateTime

evidence_captures = Table(
    "evidence_captures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="SET NULL")),
    Column("url", Text, nullable=False),
    Column("final_url", Text),
    Column("status_code", Integer),
    Column("captured_at", UTCDateTime, nullable=False),
    Column("captured_by", String(128), nullable=False),
    Column("software", String(128), nullable=False),
    Column("warc_sha256", String(64), nullable=False),
    Column("text_sha256", String(64)),
    Column("content_sha256", String(64)),
    Column("details", JsonType),
    Column("removed_at", UTCDateTime),
    Column("retain_until", UTCDateTime),
    Column("deleted_at", UTCDateTime),
    Index("ix_evidence_captures_case", "case_id"),
)

evidence_parts = Table(
    "evidence_parts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("capture_id", Integer, ForeignKey("evidence_captures.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(16), nullable=False),  # warc | text | media | dns | record
    Column("name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("mime", String(128)),
    Column("url", Text),
    Index("ix_evidence_parts_capture", "capture_id"),
    Index("ix_evidence_parts_sha256", "sha256"),
)

evidence_deletions = Table(
    "evidence_deletions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("capture_id", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("blobs", JsonType),
    Column("reason", Text),
)
