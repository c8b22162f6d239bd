"""Core tables: accounts, items, media, signals, cases, case events, quarantine, scans.

Revision ID: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.types import JsonType, UTCDateTime

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("platform", sa.String(64), nullable=False),
        sa.Column("native_id", sa.String(256)),
        sa.Column("handle", sa.String(256)),
        sa.Column("display_name", sa.String(512)),
        sa.Column("is_channel", sa.Boolean, nullable=False),
        sa.Column("first_seen", UTCDateTime, nullable=False),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("native_id", sa.String(512)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("html", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("account_key", sa.String(512)),
        sa.Column("channel_key", sa.String(512)),
        sa.Column("published", UTCDateTime),
        sa.Column("lang", sa.String(16)),
        sa.Column("reply_to", sa.String(512)),
        sa.Column("forwarded_from", sa.String(512)),
        sa.Column("origin_source", sa.Text),
        sa.Column("origin_location", sa.String(256)),
        sa.Column("links", JsonType),
        sa.Column("meta", JsonType),
        sa.Column("ingested_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_items_published", "items", ["published"])
    op.create_index("ix_items_account_key", "items", ["account_key"])
    op.create_index("ix_items_ingested_at", "items", ["ingested_at"])
    op.create_table(
        "media",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("mime", sa.String(128), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("first_seen", UTCDateTime, nullable=False),
    )
    op.create_table(
        "item_media",
        sa.Column("item_id", sa.String(32), sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("sha256", sa.String(64), sa.ForeignKey("media.sha256"), primary_key=True),
        sa.Column("name", sa.Text),
        sa.Column("url", sa.Text),
    )
    op.create_index("ix_item_media_sha256", "item_media", ["sha256"])
    op.create_table(
        "signals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(32), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("detector", sa.String(64), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("reasons", JsonType),
        sa.Column("version", sa.String(64)),
        sa.Column("meta", JsonType),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("item_id", "detector", name="uq_signals_item_detector"),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(32), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(32), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("opened_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("meta", JsonType),
        sa.UniqueConstraint("item_id", name="uq_cases_item_id"),
    )
    op.create_index("ix_cases_queue", "cases", ["state", "severity", "opened_at"])
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("from_state", sa.String(32)),
        sa.Column("to_state", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("meta", JsonType),
    )
    op.create_index("ix_case_events_case", "case_events", ["case_id"])
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("location", sa.String(256), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("excerpt", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("source", "location", name="uq_quarantine_source_location"),
    )
    op.create_table(
        "scans",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("summary", JsonType),
    )


def downgrade() -> None:
    for table in (
        "scans",
        "quarantine",
        "case_events",
        "cases",
        "signals",
        "item_media",
        "media",
        "items",
        "accounts",
    ):
        op.drop_table(table)
