"""Looking for clear identifiers where there should be none: every table but the vault, and any text a
test collects (CLI output, log lines, API responses). Used by the tests; the API and UI tests can feed it
their responses once they exist."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import MetaData, select

from vigil.store import Store

VAULT_TABLES = frozenset({"identity_vault"})


def table_texts(store: Store, skip: Iterable[str] = VAULT_TABLES) -> dict[str, str]:
    """Each table's whole content as text (JSON of its rows), the vault left out."""
    meta = MetaData()
    meta.reflect(store.engine)
    out: dict[str, str] = {}
    with store.read() as conn:
        for name, table in meta.tables.items():
            if name in set(skip) or name == "alembic_version":
                continue
            rows = [dict(r) for r in conn.execute(select(table)).mappings()]
            out[name] = json.dumps(rows, default=_text, ensure_ascii=False)
    return out


def find_leaks(texts: dict[str, str], identifiers: Iterable[str]) -> list[tuple[str, str]]:
    """(where, identifier) for each identifier found in each text; case-insensitive."""
    wanted = [i for i in identifiers if i]
    return [(where, i) for where, text in texts.items() for i in wanted if i.lower() in text.lower()]


def _text(value: Any) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return str(value)
