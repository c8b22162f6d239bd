"""Graph: ``touched`` on nodes and edges, the graph version that last inserted or changed the row, indexed,
so a loaded graph can apply only the rows changed since the version it holds (``vigil.graph.delta``).

Revision ID: graph_0003_touched
Revises: graph_0002_items_native_id
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "graph_0003_touched"
down_revision = "graph_0002_items_native_id"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("graph_nodes", "graph_edges"):
        op.add_column(table, sa.Column("touched", sa.Integer, nullable=False, server_default="0"))
        op.create_index(f"ix_{table}_touched", table, ["touched"])


def downgrade() -> None:
    for table in ("graph_nodes", "graph_edges"):
        op.drop_index(f"ix_{table}_touched", table)
        op.drop_column(table, "touched")
