"""Evidence store: captures, their parts, legal holds, the deletion log.

Revision ID: evidence_0001_tables
Revises: 0002_audit_log
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.types import JsonType, UTCDateTime

revision = "evidence_0001_tables"
down_revision = "0002_audit_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_captures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="SET NULL")),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("final_url", sa.Text),
        sa.Column("status_code", sa.Integer),
        sa.Column("captured_at", UTCDateTime, nullable=False),
        sa.Column("captured_by", sa.String(128), nullable=False),
        sa.Column("software", sa.String(128), nullable=False),
        sa.Column("warc_sha256", sa.String(64), nullable=False),
        sa.Column("text_sha256", sa.String(64)),
        sa.Column("content_sha256", sa.String(64)),
        sa.Column("details", JsonType),
        sa.Column("removed_at", UTCDateTime),
        sa.Column("retain_until", UTCDateTime),
        sa.Column("deleted_at", UTCDateTime),
    )
    op.create_index("ix_evidence_captures_case", "evidence_captures", ["case_id"])
    op.create_table(
        "evidence_parts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "capture_id",
            sa.Integer,
            sa.ForeignKey("evidence_captures.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("mime", sa.String(128)),
        sa.Column("url", sa.Text),
    )
    op.create_index("ix_evidence_parts_capture", "evidence_parts", ["capture_id"])
    op.create_index("ix_evidence_parts_sha256", "evidence_parts", ["sha256"])
    op.create_table(
        "evidence_holds",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer),
        sa.Column("capture_id", sa.Integer),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("placed_by", sa.String(128), nullable=False),
        sa.Column("placed_at", UTCDateTime, nullable=False),
        sa.Column("released_by", sa.String(128)),
        sa.Column("released_at", UTCDateTime),
    )
    op.create_table(
        "evidence_deletions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("capture_id", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("blobs", JsonType),
        sa.Column("reason", sa.Text),
    )


def downgrade() -> None:
    for name in ("evidence_deletions", "evidence_holds", "evidence_parts", "evidence_captures"):
        op.drop_table(name)
