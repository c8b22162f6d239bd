"""Plug-in registry: built-ins and third-party plug-ins register through the same entry-point groups, and
objects a configuration names (``"package.module:attribute"``) are loaded here too: the one way vigil loads
code it does not import itself."""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from vigil.errors import ConfigError, UsageError

SOURCES = "vigil.sources"
DETECTORS = "vigil.detectors"
TRANSITION_CHECKS = "vigil.transition_checks"
AFTER_STORE = "vigil.after_store"
RETENTION = "vigil.retention"


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


def named(group: str) -> list[Any]:
    """The plug-ins of a group in the order of their names (for hooks whose order must be stable)."""
    return [obj for _, obj in sorted(plugins(group).items())]


def load_object(spec: str, setting: str) -> Any:
    """The object a setting names as ``package.module:attribute`` (or a module, without ``:``); a
    ``ConfigError`` naming the setting when it cannot be loaded."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attr) if attr else module
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"{setting} {spec!r}: {exc}") from exc
