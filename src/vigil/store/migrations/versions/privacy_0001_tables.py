"""Privacy: identity vault and refs, grants, legal holds, do-not-refer list, notifications, submissions.

Revision ID: privacy_0001_tables
Revises: 0002_audit_log
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.types import UTCDateTime

revision = "privacy_0001_tables"
down_revision = "0002_audit_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_vault",
        sa.Column("pseudonym", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("platform", sa.String(64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "identity_refs",
        sa.Column("pseudonym", sa.String(40), primary_key=True),
        sa.Column("item_id", sa.String(32), primary_key=True),
    )
    op.create_index("ix_identity_refs_item", "identity_refs", ["item_id"])
    op.create_table(
        "privacy_grants",
        sa.Column("actor", sa.String(128), primary_key=True),
        sa.Column("privilege", sa.String(32), primary_key=True),
        sa.Column("granted_by", sa.String(128), nullable=False),
        sa.Column("granted_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("target_type", sa.String(16), nullable=False),
        sa.Column("target_id", sa.String(512), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("lifted_at", UTCDateTime),
        sa.Column("lifted_by", sa.String(128)),
    )
    op.create_index("ix_legal_holds_target", "legal_holds", ["target_type", "target_id"])
    op.create_table(
        "dnr_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(2048), nullable=False),
        sa.Column("alt_value", sa.String(512)),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("lifted_at", UTCDateTime),
        sa.Column("lifted_by", sa.String(128)),
    )
    op.create_index("ix_dnr_entries_kind_value", "dnr_entries", ["kind", "value"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("recipient", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("entry_id", sa.Integer, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_at", UTCDateTime, nullable=False),
        sa.Column("read_at", UTCDateTime),
        sa.Column("delivered_at", UTCDateTime),
        sa.UniqueConstraint("recipient", "kind", "case_id", "entry_id", name="uq_notifications_once"),
    )
    op.create_table(
        "case_targets",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("value", sa.String(2048), primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    )
    op.create_index("ix_case_targets_case", "case_targets", ["case_id"])
    op.create_table(
        "case_submitters",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("submitter", sa.String(128), nullable=False),
        sa.Column("org", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(2048), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("submitted_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("case_id", "submitter", "org", name="uq_case_submitters_once"),
    )


def downgrade() -> None:
    for table in (
        "case_submitters",
        "case_targets",
        "notifications",
        "dnr_entries",
        "legal_holds",
        "privacy_grants",
        "identity_refs",
        "identity_vault",
    ):
        op.drop_table(table)
