"""Referral: provider cache, documents, replies, deliveries, watched URLs, re-checks, removed media.

Revision ID: referral_0001_tables
Revises: 0002_audit_log
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.types import JsonType, UTCDateTime

revision = "referral_0001_tables"
down_revision = "0002_audit_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provider_cache",
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("data", JsonType, nullable=False),
        sa.Column("fetched_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "referral_documents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reference", sa.String(128), nullable=False, unique=True),
        sa.Column("provider", sa.String(256)),
        sa.Column("urls", JsonType, nullable=False),
        sa.Column("body", JsonType, nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("received_at", UTCDateTime),
        sa.Column("deadline_at", UTCDateTime),
    )
    op.create_index("ix_referral_documents_case", "referral_documents", ["case_id"])
    op.create_table(
        "referral_replies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("document_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.Column("data", JsonType),
    )
    op.create_index("ix_referral_replies_document", "referral_replies", ["document_id"])
    op.create_table(
        "referral_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("document_id", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("details", JsonType),
    )
    op.create_table(
        "watched_urls",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("document_id", sa.Integer),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("host", sa.String(256), nullable=False),
        sa.Column("provider", sa.String(256)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("baseline_sha256", sa.String(64)),
        sa.Column("marker", sa.Text),
        sa.Column("referred_at", UTCDateTime, nullable=False),
        sa.Column("next_check_at", UTCDateTime, nullable=False),
        sa.Column("last_checked_at", UTCDateTime),
        sa.Column("removed_at", UTCDateTime),
        sa.Column("reappeared_at", UTCDateTime),
        sa.Column("time_to_removal_s", sa.Float),
    )
    op.create_index("ix_watched_urls_due", "watched_urls", ["next_check_at"])
    op.create_index("ix_watched_urls_case", "watched_urls", ["case_id"])
    op.create_table(
        "recheck_results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("watch_id", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("content_sha256", sa.String(64)),
        sa.Column("shows_item", sa.Boolean),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_recheck_results_watch", "recheck_results", ["watch_id"])
    op.create_table(
        "removed_media",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("path", sa.Text),
        sa.Column("case_id", sa.Integer),
        sa.Column("url", sa.Text),
        sa.Column("meta", JsonType),
        sa.Column("added_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    for name in (
        "removed_media",
        "recheck_results",
        "watched_urls",
        "referral_deliveries",
        "referral_replies",
        "referral_documents",
        "provider_cache",
    ):
        op.drop_table(name)
