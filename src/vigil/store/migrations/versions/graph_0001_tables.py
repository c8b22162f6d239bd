"""Graph: nodes, edges with evidence, graphed items, state (watermark, version) and an analysis cache.

Revision ID: graph_0001_tables
Revises: 0002_audit_log
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigil.store.types import JsonType, UTCDateTime

revision = "graph_0001_tables"
down_revision = "0002_audit_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "graph_nodes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(700), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("label", sa.String(512), nullable=False),
        sa.Column("first_seen", UTCDateTime),
        sa.Column("last_seen", UTCDateTime),
        sa.Column("item_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attrs", JsonType),
        sa.UniqueConstraint("key", name="uq_graph_nodes_key"),
    )
    op.create_index("ix_graph_nodes_kind", "graph_nodes", ["kind"])
    op.create_table(
        "graph_edges",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ekey", sa.String(80), nullable=False),
        sa.Column("src", sa.Integer, nullable=False),
        sa.Column("dst", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("first_seen", UTCDateTime),
        sa.Column("last_seen", UTCDateTime),
        sa.Column("count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("evidence", JsonType),
        sa.Column("attrs", JsonType),
        sa.UniqueConstraint("ekey", name="uq_graph_edges_ekey"),
    )
    op.create_index("ix_graph_edges_src", "graph_edges", ["src", "kind"])
    op.create_index("ix_graph_edges_dst", "graph_edges", ["dst", "kind"])
    op.create_table("graph_items", sa.Column("item_id", sa.String(32), primary_key=True))
    op.create_table(
        "graph_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", JsonType),
    )
    op.create_table(
        "graph_cache",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("value", JsonType),
    )


def downgrade() -> None:
    for name in ("graph_cache", "graph_state", "graph_items", "graph_edges", "graph_nodes"):
        op.drop_table(name)
