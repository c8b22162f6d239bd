"""The detector plug-in interface."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from vigil.config import Config
from vigil.core.model import Item, Signal


@runtime_checkable
class Detector(Protocol):
    """Scores items. Works on batches so that models can vectorise; returns zero or more signals per item."""

    name: str
    version: str

    def detect(self, items: list[Item]) -> list[Signal]: ...


class DetectorFactory(Protocol):
    def __call__(self, config: Config) -> Detector: ...
