"""Lease fencing: a generation on each watched source's lease, moved on by every take, so that a holder
whose lease was taken over (even by its own process) cannot renew it or commit its run's outcome.

Revision ID: leaseclock_0001_lease_generation
Revises: 0002_audit_log
Depends on: monitor_0002_leases_runs (the lease columns)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "leaseclock_0001_lease_generation"
down_revision = "0002_audit_log"
branch_labels = None
depends_on = "monitor_0002_leases_runs"


def upgrade() -> None:
    op.add_column(
        "watch_sources",
        sa.Column("lease_generation", sa.Integer, nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    with op.batch_alter_table("watch_sources") as batch:
        batch.drop_column("lease_generation")
