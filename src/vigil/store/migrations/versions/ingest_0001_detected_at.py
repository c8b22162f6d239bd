"""Ingest: ``items.detected_at``, set in the transaction that stores an item's signals and cases, so that
an item stored but never scored (a scan or a worker killed in between) is scored when it comes again.

Revision ID: ingest_0001_detected_at
Revises: 0002_audit_log
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.types import UTCDateTime

revision = "ingest_0001_detected_at"
down_revision = "0002_audit_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("detected_at", UTCDateTime(), nullable=True))
    # Items stored before this column existed went through detection in their batch.
    op.execute("UPDATE items SET detected_at = ingested_at")


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("detected_at")
