"""Monitoring: watched sources with their health; site fingerprints and probable-mirror links.

Revision ID: monitor_0001_watch_mirrors
Revises: 0002_audit_log
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.types import JsonType, UTCDateTime

revision = "monitor_0001_watch_mirrors"
down_revision = "0002_audit_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watch_sources",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("fmt", sa.String(32)),
        sa.Column("interval_s", sa.Float, nullable=False),
        sa.Column("options", JsonType),
        sa.Column("robots_override", sa.Text),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_run_at", UTCDateTime),
        sa.Column("last_success_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("last_error_at", UTCDateTime),
        sa.Column("consecutive_failures", sa.Integer, nullable=False),
        sa.Column("next_due_at", UTCDateTime, nullable=False),
        sa.Column("items_total", sa.Integer, nullable=False),
        sa.Column("state", JsonType),
    )
    op.create_table(
        "site_fingerprints",
        sa.Column("domain", sa.String(255), primary_key=True),
        sa.Column("outlet", sa.String(128)),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("fingerprint", JsonType, nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "mirror_links",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("outlet", sa.String(128), nullable=False),
        sa.Column("outlet_domain", sa.String(255), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("evidence", JsonType, nullable=False),
        sa.Column("item_id", sa.String(32)),
        sa.Column("case_id", sa.Integer),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("domain", "outlet_domain", name="uq_mirror_links_domain_outlet"),
    )


def downgrade() -> None:
    op.drop_table("mirror_links")
    op.drop_table("site_fingerprints")
    op.drop_table("watch_sources")
