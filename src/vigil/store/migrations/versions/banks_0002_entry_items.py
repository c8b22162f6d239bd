"""Banks: ``bank_entry_items``, the items each entry has matched, so that the flood guard counts an item's
match once however often the item is scored (a scan killed between matching and storing the detection).

Revision ID: banks_0002_entry_items
Revises: banks_0001_tables
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "banks_0002_entry_items"
down_revision = "banks_0001_tables"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_entry_items",
        sa.Column(
            "entry_id", sa.Integer, sa.ForeignKey("bank_entries.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("item_id", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", "item_id", name="pk_bank_entry_items"),
    )


def downgrade() -> None:
    op.drop_table("bank_entry_items")
