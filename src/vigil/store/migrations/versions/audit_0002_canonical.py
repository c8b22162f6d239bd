"""Audit: entries hashed over their RFC 8785 (JCS) text, kept as text. ``hash_version`` 2 marks them;
entries written before (``hash_version`` NULL) keep their JSONB ``details`` and are verified as they were
hashed.

Revision ID: audit_0002_canonical
Revises: audit_0001_checkpoints
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "audit_0002_canonical"
down_revision = "audit_0001_checkpoints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("hash_version", sa.Integer, nullable=True))
        batch.add_column(sa.Column("details_jcs", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("details_jcs")
        batch.drop_column("hash_version")
