"""Which out-links are shorteners (follow to the end), file lockers and paste sites (fetch as media)."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from vigil.errors import ConfigError

KINDS = ("shorteners", "lockers", "pastes")


@dataclass(slots=True)
class OutlinkRegistry:
    hosts: dict[str, set[str]] = field(default_factory=lambda: {k: set() for k in KINDS})

    @classmethod
    def load(cls, extra: Path | None = None) -> OutlinkRegistry:
        """The shipped registry, merged with ``extra`` (e.g. ``$VIGIL_HOME/outlinks.yaml``) if it exists."""
        registry = cls()
        shipped = files("vigil") / "data" / "outlinks.yaml"
        registry.merge(yaml.safe_load(shipped.read_text("utf-8")), "vigil/data/outlinks.yaml")
        if extra is not None and extra.exists():
            try:
                data = yaml.safe_load(extra.read_text("utf-8"))
            except (yaml.YAMLError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{extra}: {exc}") from exc
            registry.merge(data, str(extra))
        return registry

    def merge(self, data: Any, where: str) -> None:
        if data is None:
            return
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected a mapping of {', '.join(KINDS)}")
        for kind, hosts in data.items():
            if kind not in KINDS or not isinstance(hosts, list):
                raise ConfigError(f"{where}: {kind!r} must be one of {KINDS} with a list of hosts")
            self.hosts[kind].update(str(h).lower().strip(".") for h in hosts)

    def kind(self, host: str | None) -> str | None:
        """'shortener', 'locker', 'paste' or None for a host name (sub-domains included)."""
        if not host:
            return None
        host = host.lower().strip(".")
        parts = host.split(".")
        for i in range(len(parts) - 1):
            suffix = ".".join(parts[i:])
            for kind in KINDS:
                if suffix in self.hosts[kind]:
                    return kind[:-1]
        return None
