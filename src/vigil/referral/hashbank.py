"""Where removed content's media hashes go, so that re-uploads anywhere are caught.

A sink is any object with ``add_removed_media(sha256, path, meta) -> None``. The default writes them to the
``removed_media`` table. The hash-bank feature can plug in its own: set ``removed_media_sink =
"package.module:factory"`` in config.toml, where ``factory(store, config)`` returns a sink.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select

from vigil.config import Config
from vigil.core.model import utcnow
from vigil.core.registry import load_object
from vigil.referral.tables import removed_media
from vigil.store import Store


class RemovedMediaSink(Protocol):
    def add_removed_media(self, sha256: str, path: Path | None, meta: dict[str, Any]) -> None: ...


class TableSink:
    """The fallback bank: one row per media hash in ``removed_media``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add_removed_media(self, sha256: str, path: Path | None, meta: dict[str, Any]) -> None:
        with self.store.write() as conn:
            stmt = self.store._insert(removed_media).values(
                sha256=sha256,
                path=str(path) if path else None,
                case_id=meta.get("case_id"),
                url=meta.get("url"),
                meta=meta,
                added_at=utcnow(),
            )
            conn.execute(stmt.on_conflict_do_nothing())

    def contains(self, sha256: str) -> bool:
        with self.store.read() as conn:
            return (
                conn.execute(select(removed_media.c.sha256).where(removed_media.c.sha256 == sha256)).first()
                is not None
            )


def load_sink(store: Store, config: Config) -> RemovedMediaSink:
    spec = str(config.extra.get("removed_media_sink") or "")
    if not spec:
        return TableSink(store)
    factory = load_object(spec, "removed_media_sink")
    sink: RemovedMediaSink = factory(store, config)
    return sink
