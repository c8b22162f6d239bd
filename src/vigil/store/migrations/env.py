"""Alembic environment: the engine comes from vigil's Store, never from an ini file."""

from __future__ import annotations

from alembic import context

from vigil.store.schema import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    context.run_migrations()
