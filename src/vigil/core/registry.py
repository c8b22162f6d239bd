"""Plug-in registry: built-ins and third-party plug-ins register through the same entry-point groups."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any

from vigil.errors import UsageError

SOURCES = "vigil.sources"
DETECTORS = "vigil.detectors"


@cache
def plugins(group: str) -> dict[str, Any]:
    """Name -> plug-in class for an entry-point group, loaded once per process."""
    found: dict[str, Any] = {}
    for ep in entry_points(group=group):
        found[ep.name] = ep.load()
    return found


def plugin(group: str, name: str) -> Any:
    available = plugins(group)
    if name not in available:
        raise UsageError(
            f"unknown {group.split('.')[-1][:-1]} {name!r}; known: {', '.join(sorted(available))}"
        )
    return available[name]
