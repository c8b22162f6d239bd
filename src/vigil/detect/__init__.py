"""Detectors: each scores items and explains why. Built from a ``DetectorContext`` the pipeline gives."""

from __future__ import annotations

from vigil.core.detector import Detector
from vigil.core.registry import DETECTORS, plugin, plugins
from vigil.detect.context import DetectorContext

#: Detectors that run when the configuration names none.
DEFAULT_DETECTORS: tuple[str, ...] = ("watchlist", "text", "outlets", "hashmatch")


def detector_names(ctx: DetectorContext) -> tuple[str, ...]:
    """The configured detectors, or the installed defaults."""
    return ctx.config.detectors or tuple(n for n in DEFAULT_DETECTORS if n in plugins(DETECTORS))


def load_detectors(ctx: DetectorContext, names: tuple[str, ...] | None = None) -> list[Detector]:
    return [plugin(DETECTORS, name)(ctx) for name in (names or detector_names(ctx))]
