"""Do-not-refer notifications by e-mail: when each was accepted by the SMTP server, failed tries, the
last reason, the next try and a claim (so that concurrent runs never send one twice).

Revision ID: privacy_0002_notify_mail
Revises: privacy_0001_tables
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.types import UTCDateTime

revision = "privacy_0002_notify_mail"
down_revision = "privacy_0001_tables"
branch_labels = None
depends_on = None

_COLUMNS = ("mail_delivered_at", "mail_tries", "mail_error", "mail_next_at", "mail_claimed_until")


def upgrade() -> None:
    op.add_column("notifications", sa.Column("mail_delivered_at", UTCDateTime))
    op.add_column("notifications", sa.Column("mail_tries", sa.Integer, nullable=False, server_default="0"))
    op.add_column("notifications", sa.Column("mail_error", sa.Text))
    op.add_column("notifications", sa.Column("mail_next_at", UTCDateTime))
    op.add_column("notifications", sa.Column("mail_claimed_until", UTCDateTime))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
