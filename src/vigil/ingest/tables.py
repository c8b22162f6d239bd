"""Media fetched by URL for ``vigil scan --fetch-media``: which URL gave which content-addressed bytes,
so that a URL already fetched is not fetched again (the bytes stay under ``media/``)."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table, Text

from vigil.store.schema import metadata
from vigil.store.types import JsonType, UTCDateTime

fetched_media = Table(
    "fetched_media",
    metadata,
    #: SHA-256 of the URL as referenced (URLs may be longer than an index allows).
    Column("url_key", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("mime", String(128), nullable=False),
    Column("size", Integer, nullable=False),
    Column("final_url", Text),
    Column("address", String(64)),
    Column("redirects", JsonType),
    Column("fetched_at", UTCDateTime, nullable=False),
)
