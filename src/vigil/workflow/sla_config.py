"""The unit's own review SLAs, from ``[workflow.sla]`` in config.toml (``Config.extra``)::

    [workflow.sla.review]      # per severity queue: from detection to an approved decision
    threat_to_life = "30m"
    live_attack = "1h"
    official_release = "4h"
    instructional = "24h"
    other = "72h"

    [workflow.sla]
    approval = "2h"            # optional: a proposal waits at most this long for the four-eyes approval

Every key is optional (the defaults are the lengths above; no approval clock). The legal clocks of
Regulation (EU) 2021/784 (removal order one hour, Art. 3(3); cross-border scrutiny, Art. 4; complaints,
Art. 10) are not settings: naming one here is a ``ConfigError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from vigil.config import Config
from vigil.core.durations import format_duration, parse_duration
from vigil.core.model import Severity
from vigil.errors import ConfigError

DEFAULT_REVIEW: dict[Severity, timedelta] = {
    Severity.THREAT_TO_LIFE: timedelta(minutes=30),
    Severity.LIVE_ATTACK: timedelta(hours=1),
    Severity.OFFICIAL_RELEASE: timedelta(hours=4),
    Severity.INSTRUCTIONAL: timedelta(hours=24),
    Severity.OTHER: timedelta(hours=72),
}
#: Keys people may reach for that are fixed by law, and why.
LEGAL_KEYS: dict[str, str] = {
    "removal_order": "one hour, Regulation (EU) 2021/784 Art. 3(3)",
    "scrutiny_request": "48 hours, Regulation (EU) 2021/784 Art. 4",
    "scrutiny_decision": "72 hours, Regulation (EU) 2021/784 Art. 4",
    "complaint": "two weeks, Regulation (EU) 2021/784 Art. 10",
}
_SECTION = "workflow.sla"


@dataclass(slots=True, frozen=True)
class SlaSettings:
    review: dict[Severity, timedelta] = field(default_factory=lambda: dict(DEFAULT_REVIEW))
    approval: timedelta | None = None

    @classmethod
    def from_config(cls, config: Config) -> SlaSettings:
        raw = _table(_table(config.extra.get("workflow", {}), "workflow").get("sla", {}), _SECTION)
        for key in raw.keys() & LEGAL_KEYS.keys():
            raise ConfigError(f"{_SECTION}.{key}: a legal clock, not a setting ({LEGAL_KEYS[key]})")
        unknown = set(raw) - {"review", "approval"}
        if unknown:
            raise ConfigError(f"{_SECTION}: unknown keys {sorted(unknown)} (known: review, approval)")
        review = dict(DEFAULT_REVIEW)
        table = _table(raw.get("review", {}), f"{_SECTION}.review")
        for key, value in table.items():
            where = f"{_SECTION}.review.{key}"
            if key not in set(Severity):
                raise ConfigError(f"{where}: no such queue (one of {', '.join(Severity)})")
            review[Severity(key)] = parse_duration(value, where)
        approval = parse_duration(raw["approval"], f"{_SECTION}.approval") if "approval" in raw else None
        return cls(review, approval)

    def to_dict(self) -> dict[str, Any]:
        return {
            "review": {str(k): format_duration(v) for k, v in self.review.items()},
            "approval": format_duration(self.approval) if self.approval else None,
        }


def _table(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table, found {type(value).__name__}")
    return value
