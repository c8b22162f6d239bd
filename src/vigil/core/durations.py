"""Durations written the way people write them in a config file: ``"30m"``, ``"4h"``, ``"1h30m"``, ``"2d"``.

Units: ``w`` weeks, ``d`` days, ``h`` hours, ``m`` minutes, ``s`` seconds, each at most once and in that
order; whitespace between parts is allowed. A bare number is refused (minutes or hours? say which).
"""

from __future__ import annotations

import re
from datetime import timedelta

from vigil.errors import ConfigError

UNITS: dict[str, int] = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
MAX_DURATION = timedelta(days=366)
MAX_TEXT = 64
_PART = re.compile(r"(\d{1,9})\s*([wdhms])")
_WHOLE = re.compile(r"\s*(?:\d{1,9}\s*[wdhms]\s*)+")


def parse_duration(value: object, where: str) -> timedelta:
    """A positive duration of at most a year; anything else is a ``ConfigError`` that names ``where``."""
    example = "expected a duration such as '90m', '4h' or '1h30m'"
    if not isinstance(value, str) or len(value) > MAX_TEXT or not _WHOLE.fullmatch(value):
        raise ConfigError(f"{where}: {example}, found {_shown(value)}")
    parts = _PART.findall(value)
    units = [unit for _, unit in parts]
    order = list(UNITS)
    if len(set(units)) != len(units) or units != sorted(units, key=order.index):
        raise ConfigError(f"{where}: each unit once, largest first (w d h m s), found {_shown(value)}")
    seconds = sum(int(number) * UNITS[unit] for number, unit in parts)
    if seconds <= 0:
        raise ConfigError(f"{where}: a duration must be longer than zero, found {_shown(value)}")
    if seconds > MAX_DURATION.total_seconds():
        raise ConfigError(f"{where}: at most {MAX_DURATION.days} days, found {_shown(value)}")
    return timedelta(seconds=seconds)


def format_duration(length: timedelta) -> str:
    """The inverse of ``parse_duration`` for whole seconds: ``timedelta(minutes=90)`` -> ``"1h30m"``."""
    seconds = int(length.total_seconds())
    out = []
    for unit, size in UNITS.items():
        if unit == "w":  # weeks read worse than days in a table of SLAs
            continue
        number, seconds = divmod(seconds, size)
        if number:
            out.append(f"{number}{unit}")
    return "".join(out) or "0s"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
