"""Detectors: each scores items and explains why."""

from __future__ import annotations

from vigil.config import Config
from vigil.core.detector import Detector
from vigil.core.registry import DETECTORS, plugin, plugins

#: Detectors that run when the configuration names none.
DEFAULT_DETECTORS: tuple[str, ...] = ("watchlist", "text", "outlets", "hashmatch")


def load_detectors(config: Config, names: tuple[str, ...] | None = None) -> list[Detector]:
    chosen = names or config.detectors or tuple(n for n in DEFAULT_DETECTORS if n in plugins(DETECTORS))
    return [plugin(DETECTORS, name)(config) for name in chosen]
