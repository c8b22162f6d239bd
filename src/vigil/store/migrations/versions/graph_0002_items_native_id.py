"""Graph: an index on items.native_id, so a reply's author is found by the native id it names.

Revision ID: graph_0002_items_native_id
Revises: graph_0001_tables
"""

from __future__ import annotations

from alembic import op

revision = "graph_0002_items_native_id"
down_revision = "graph_0001_tables"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_items_native_id", "items", ["native_id"])


def downgrade() -> None:
    op.drop_index("ix_items_native_id", "items")
