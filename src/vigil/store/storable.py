"""What the store can hold, checked before it is asked to: one rule for every string that reaches it.

PostgreSQL refuses a NUL character in text and in JSONB (SQLite takes it, so a test on SQLite alone never
sees the 500), nothing can encode an unpaired surrogate as UTF-8, and JSON has no NaN or infinity. The web
boundary (``vigil.web.boundary``) applies ``unstorable_in`` to every path, query, form field and JSON body
before a handler runs, and refuses with 422; the core's own checks (``vigil.privacy.inputs``) use
``unstorable`` too.
"""

from __future__ import annotations

import math
from typing import Any

#: Deeper JSON than this is refused rather than walked (nothing vigil stores nests so deep).
MAX_DEPTH = 64


def unstorable(text: str) -> str | None:
    """Why ``text`` cannot be stored as given, or ``None``."""
    if "\x00" in text:
        return "NUL characters cannot be stored"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "unpaired surrogates cannot be stored"
    return None


def unstorable_in(value: Any, where: str = "") -> tuple[str, str] | None:
    """The first place in a JSON value (object names included) that the store cannot hold, as ``(where,
    why)``; ``None`` when it can hold all of it."""
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        current, at, depth = stack.pop()
        if depth > MAX_DEPTH:
            return at, f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(current, str):
            why = unstorable(current)
            if why:
                return at, why
        elif isinstance(current, float):
            if math.isnan(current) or math.isinf(current):
                return at, "NaN and infinities are not JSON numbers"
        elif isinstance(current, dict):
            for key, item in current.items():
                why = unstorable(str(key))
                if why:
                    return f"{at or 'value'} (the name of a member)", why
                name = str(key)[:40]
                stack.append((item, f"{at}.{name}" if at else name, depth + 1))
        elif isinstance(current, list | tuple):
            stack.extend((item, f"{at}[{n}]", depth + 1) for n, item in enumerate(current))
    return None
