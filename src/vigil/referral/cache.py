"""A small store-backed cache with time-outs (for RDAP and ASN answers)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from vigil.core.model import utcnow
from vigil.referral.tables import provider_cache
from vigil.store import Store


def cached(
    store: Store,
    key: str,
    ttl: timedelta,
    compute: Callable[[], dict[str, Any]],
    now: datetime | None = None,
    error_ttl: timedelta | None = None,
) -> dict[str, Any]:
    """The cached value for ``key`` if fresh, else ``compute()`` stored for ``ttl``. A computed value with an
    ``error`` key is kept for ``error_ttl`` (shorter), so that a failing server is asked again soon."""
    now = now or utcnow()
    with store.read() as conn:
        row = conn.execute(select(provider_cache).where(provider_cache.c.key == key)).mappings().first()
    if row is not None and row["expires_at"] > now:
        return {**dict(row["data"]), "cached": True}
    value = compute()
    life = (error_ttl or ttl) if value.get("error") else ttl
    values = {"data": value, "fetched_at": now, "expires_at": now + life}
    with store.write() as conn:
        stmt = store._insert(provider_cache).values(key=key, **values)
        conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_=values))
    return {**value, "cached": False}
