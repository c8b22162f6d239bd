"""Text from people (reasons, notes, values typed into a form or an API body) checked before it reaches
the store: PostgreSQL refuses NUL characters and nothing can encode an unpaired surrogate, so either
would fail deep in a transaction instead of being refused clearly at the door. The rule itself is
``vigil.store.storable`` (the web boundary applies the same one to every request)."""

from __future__ import annotations

from vigil.errors import UsageError
from vigil.store.storable import unstorable as _why


def unstorable(text: str) -> bool:
    return _why(text) is not None


def require_storable(**fields: str | None) -> None:
    """``UsageError`` naming the first field that cannot be stored as given."""
    for name, value in fields.items():
        if value and unstorable(value):
            raise UsageError(f"{name}: NUL characters and unpaired surrogates cannot be stored")
