"""Settings that admins change at run time (key -> JSON value). Every change is audited with the old and
the new value."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from vigil.audit import log as audit
from vigil.core.model import utcnow
from vigil.store import Store
from vigil.workflow.tables import settings


def all_settings(store: Store) -> dict[str, Any]:
    with store.read() as conn:
        return {
            k: v for k, v in conn.execute(select(settings.c.key, settings.c.value).order_by(settings.c.key))
        }


def set_setting(store: Store, key: str, value: Any, actor: str) -> None:
    now = utcnow()
    with store.write() as conn:
        old = conn.execute(select(settings.c.value).where(settings.c.key == key)).first()
        if old is None:
            conn.execute(settings.insert().values(key=key, value=value, updated_at=now, updated_by=actor))
        else:
            conn.execute(
                settings.update()
                .where(settings.c.key == key)
                .values(value=value, updated_at=now, updated_by=actor)
            )
        audit.append_in(
            conn, actor, "setting.change", "setting", key, {"old": old[0] if old else None, "new": value}
        )
