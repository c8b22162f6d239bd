"""Evidence holds become legal holds: one hold concept for retention of every data class.

Each ``evidence_holds`` row is copied into ``legal_holds`` (a hold on a case as ``target_type = 'case'``,
on a capture as ``'capture'``; placed/released become created/lifted), then ``evidence_holds`` is dropped.

Revision ID: evidence_0002_one_legal_hold
Revises: evidence_0001_tables
Depends on: privacy_0001_tables (where ``legal_holds`` is created)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.types import UTCDateTime

revision = "evidence_0002_one_legal_hold"
down_revision = "evidence_0001_tables"
branch_labels = None
depends_on = "privacy_0001_tables"

_evidence_holds = sa.table(
    "evidence_holds",
    sa.column("id", sa.Integer),
    sa.column("case_id", sa.Integer),
    sa.column("capture_id", sa.Integer),
    sa.column("reason", sa.Text),
    sa.column("placed_by", sa.String),
    sa.column("placed_at", UTCDateTime),
    sa.column("released_by", sa.String),
    sa.column("released_at", UTCDateTime),
)
_legal_holds = sa.table(
    "legal_holds",
    sa.column("target_type", sa.String),
    sa.column("target_id", sa.String),
    sa.column("owner", sa.String),
    sa.column("reason", sa.Text),
    sa.column("created_at", UTCDateTime),
    sa.column("lifted_at", UTCDateTime),
    sa.column("lifted_by", sa.String),
)


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(_evidence_holds).order_by(_evidence_holds.c.id)).mappings().all()
    moved = [
        {
            "target_type": "capture" if r["capture_id"] is not None else "case",
            "target_id": str(r["capture_id"] if r["capture_id"] is not None else r["case_id"]),
            "owner": r["placed_by"],
            "reason": r["reason"],
            "created_at": r["placed_at"],
            "lifted_at": r["released_at"],
            "lifted_by": r["released_by"],
        }
        for r in rows
        if r["capture_id"] is not None or r["case_id"] is not None
    ]
    if moved:
        conn.execute(_legal_holds.insert(), moved)
    op.drop_table("evidence_holds")


def downgrade() -> None:
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
