"""Mirror tables: the fingerprint of each site seen, and the probable-mirror links found between them."""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, String, Table, Text, UniqueConstraint

from vigil.store.schema import metadata
from vigil.store.types import JsonType, UTCDateTime

site_fingerprints = Table(
    "site_fingerprints",
    metadata,
    Column("domain", String(255), primary_key=True),
    Column("outlet", String(128)),
    Column("url", Text, nullable=False),
    Column("fingerprint", JsonType, nullable=False),
    Column("pages", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

mirror_links = Table(
    "mirror_links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("domain", String(255), nullable=False),
    Column("outlet", String(128), nullable=False),
    Column("outlet_domain", String(255), nullable=False),
    Column("score", Float, nullable=False),
    Column("evidence", JsonType, nullable=False),
    Column("item_id", String(32)),
    Column("case_id", Integer),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("domain", "outlet_domain", name="uq_mirror_links_domain_outlet"),
)
