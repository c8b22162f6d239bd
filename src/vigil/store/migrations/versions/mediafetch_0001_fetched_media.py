"""Media fetched by URL (``vigil scan --fetch-media``): URL -> content-addressed bytes.

Revision ID: mediafetch_0001_fetched_media
Revises: 0002_audit_log
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.types import JsonType, UTCDateTime

revision = "mediafetch_0001_fetched_media"
down_revision = "0002_audit_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fetched_media",
        sa.Column("url_key", sa.String(64), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("mime", sa.String(128), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("final_url", sa.Text),
        sa.Column("address", sa.String(64)),
        sa.Column("redirects", JsonType),
        sa.Column("fetched_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("fetched_media")
