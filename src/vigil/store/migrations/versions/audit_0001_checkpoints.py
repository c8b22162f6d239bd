"""Audit: verification checkpoints. A verification that found the chain intact up to an entry records the
entry, its hash and the count, so the audit page re-verifies only what came after.

Revision ID: audit_0001_checkpoints
Revises: 0002_audit_log
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.types import UTCDateTime

revision = "audit_0001_checkpoints"
down_revision = "0002_audit_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entry_id", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.Column("full", sa.Boolean, nullable=False),
        sa.Column("verified_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_checkpoints")
