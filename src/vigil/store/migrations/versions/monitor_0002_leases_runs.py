"""Monitoring: a lease per watched source (which serve process runs it, until when) and the run history.

Revision ID: monitor_0002_leases_runs
Revises: monitor_0001_watch_mirrors
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.types import UTCDateTime

revision = "monitor_0002_leases_runs"
down_revision = "monitor_0001_watch_mirrors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("watch_sources", sa.Column("lease_owner", sa.String(200)))
    op.add_column("watch_sources", sa.Column("lease_until", UTCDateTime))
    op.create_table(
        "watch_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "source_id",
            sa.Integer,
            sa.ForeignKey("watch_sources.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("items", sa.Integer, nullable=False),
        sa.Column("new_items", sa.Integer, nullable=False),
        sa.Column("cases", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_watch_runs_source_id", "watch_runs", ["source_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_watch_runs_source_id", "watch_runs")
    op.drop_table("watch_runs")
    with op.batch_alter_table("watch_sources") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
