"""Typed errors. Each carries where in the input it happened, so nothing is reported without a place."""

from __future__ import annotations


class VigilError(Exception):
    """Base class of every error vigil raises on purpose."""


class UsageError(VigilError):
    """The user asked for something that cannot be done as asked (exit code 2)."""


class ConfigError(VigilError):
    """Configuration is missing or invalid."""


class RecordError(VigilError):
    """One input record is bad. The scan quarantines it and goes on."""

    def __init__(self, reason: str, location: str = "") -> None:
        super().__init__(f"{location}: {reason}" if location else reason)
        self.reason = reason
        self.location = location


class SourceError(VigilError):
    """A whole source cannot be read (missing file, unreachable URL, unknown format)."""

    def __init__(self, reason: str, source: str = "") -> None:
        super().__init__(f"{source}: {reason}" if source else reason)
        self.reason = reason
        self.source = source
