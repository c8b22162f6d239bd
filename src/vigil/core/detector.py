"""The detector plug-in interface.

A detector plug-in (entry-point group ``vigil.detectors``) is a class called with a ``DetectorContext``
(``vigil.detect.context``): the configuration, the pipeline's store and the media store. It never opens a
store of its own.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from vigil.core.model import Item, Signal


@runtime_checkable
class Detector(Protocol):
    """Scores items. Works on batches so that models can vectorise; returns zero or more signals per item.

    A detector whose work needs this machine (the store, the media files) sets ``local_only = True``: an
    executor that spreads detection over other machines (Ray) runs it where the pipeline runs."""

    name: str
    version: str

    def detect(self, items: list[Item]) -> list[Signal]: ...


class DetectorFactory(Protocol):
    def __call__(self, ctx: Any) -> Detector: ...


def is_local_only(detector: Detector) -> bool:
    return bool(getattr(detector, "local_only", False))
