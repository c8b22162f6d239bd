"""Hash banks and their entries.

Revision ID: banks_0001_tables
Revises: 0002_audit_log
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.types import JsonType, UTCDateTime

revision = "banks_0001_tables"
down_revision = "0002_audit_log"
branch_labels = ("banks",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "banks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("threshold", sa.Integer, nullable=False),
        sa.Column("negative", sa.Boolean, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "bank_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("bank_id", sa.Integer, sa.ForeignKey("banks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("signal_type", sa.String(16), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("frames", JsonType),
        sa.Column("source", sa.String(256)),
        sa.Column("source_id", sa.String(512)),
        sa.Column("meta", JsonType),
        sa.Column("first_seen", UTCDateTime),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("quarantined", sa.Boolean, nullable=False),
        sa.Column("review_reason", sa.Text),
        sa.Column("match_count", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_bank_entries_bank", "bank_entries", ["bank_id", "signal_type"])
    op.create_index("ix_bank_entries_value", "bank_entries", ["signal_type", "value"])


def downgrade() -> None:
    op.drop_table("bank_entries")
    op.drop_table("banks")
