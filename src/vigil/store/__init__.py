"""Persistence: SQLAlchemy Core schema, repositories and Alembic migrations (SQLite default, PostgreSQL)."""

from vigil.store.store import Store

__all__ = ["Store"]
