"""The graph's store tables: nodes, edges (with first/last seen and evidence), the items already graphed,
a small key/value state (the catch-up watermark, the graph version) and a cache of analysis results."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table

from vigil.store.schema import items, metadata
from vigil.store.types import JsonType, UTCDateTime

graph_nodes = Table(
    "graph_nodes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(700), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("label", String(512), nullable=False),
    Column("first_seen", UTCDateTime),
    Column("last_seen", UTCDateTime),
    Column("item_count", Integer, nullable=False, default=0),
    Column("attrs", JsonType),
    Column("touched", Integer, nullable=False, default=0, server_default="0"),  # version of last change
    Index("ix_graph_nodes_kind", "kind"),
    Index("ix_graph_nodes_touched", "touched"),
)

graph_edges = Table(
    "graph_edges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ekey", String(80), nullable=False, unique=True),  # "src dst kind": one indexed lookup
    Column("src", Integer, nullable=False),
    Column("dst", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("first_seen", UTCDateTime),
    Column("last_seen", UTCDateTime),
    Column("count", Integer, nullable=False, default=0),
    Column("evidence", JsonType),
    Column("attrs", JsonType),
    Column("touched", Integer, nullable=False, default=0, server_default="0"),  # version of last change
    Index("ix_graph_edges_src", "src", "kind"),
    Index("ix_graph_edges_touched", "touched"),
    Index("ix_graph_edges_dst", "dst", "kind"),
)

graph_items = Table(
    "graph_items",
    metadata,
    Column("item_id", String(32), primary_key=True),
)

graph_state = Table(
    "graph_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JsonType),
)

graph_cache = Table(
    "graph_cache",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("value", JsonType),
)

# Replies name the item they answer by its id or its native id: the graph looks both up.
Index("ix_items_native_id", items.c.native_id)
