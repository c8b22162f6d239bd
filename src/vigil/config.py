"""Configuration: defaults, then ``$VIGIL_HOME/config.toml``, then ``VIGIL_*`` environment variables."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from vigil.errors import ConfigError


def default_home() -> Path:
    return Path(os.environ.get("VIGIL_HOME") or Path.home() / ".vigil")


@dataclass(slots=True)
class Config:
    home: Path = field(default_factory=default_home)
    database_url: str = ""
    # Limits that protect every parser from hostile input.
    max_file_bytes: int = 2 * 1024**3
    max_record_bytes: int = 8 * 1024**2
    max_decompressed_bytes: int = 512 * 1024**2
    # Detection.
    watchlist_path: str = ""
    detectors: tuple[str, ...] = ()
    # Network (crawler, fetch of feed URLs).
    allow_private_addresses: bool = False
    #: Non-global networks allowed even when private addresses are not (e.g. "127.0.0.1/32").
    allowed_networks: tuple[str, ...] = ()
    http_timeout: float = 20.0
    #: PEM file of CA certificates to trust instead of the system's (e.g. an internal CA).
    ca_bundle: str = ""
    user_agent: str = "vigil/0.1 (+https://github.com/vigil-project/vigil)"
    # Media that posts reference by URL (X/Twitter media, feed enclosures and images), fetched by
    # ``vigil scan`` for hash matching. Off by default: a scan of a file then contacts no one.
    fetch_media: bool = False
    #: Largest image or video kept, fetched or found in a WARC.
    max_media_bytes: int = 50 * 1024**2
    max_media_per_item: int = 8
    #: Seconds between two media requests to the same host.
    media_fetch_delay: float = 0.25
    # Queue between ingestion and detection: "" runs detection in-process; "nats://host:4222" uses
    # NATS JetStream (stream ``queue_stream``; ``vigil worker`` processes it).
    queue_url: str = ""
    queue_stream: str = "VIGIL_ITEMS"
    queue_ack_wait: float = 60.0
    # The web server (``vigil serve``). Cookies are marked Secure: "auto" when the request came over
    # https (seen directly, or in X-Forwarded-Proto from a trusted proxy), "always", or "never".
    cookie_secure: str = "auto"
    #: Addresses or networks of the reverse proxies whose X-Forwarded-Proto is believed (e.g.
    #: "127.0.0.1/32"); from anyone else the header is ignored.
    trusted_proxies: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'vigil.db'}"

    @property
    def media_dir(self) -> Path:
        return self.home / "media"

    @property
    def resolved_watchlist(self) -> Path:
        return Path(self.watchlist_path) if self.watchlist_path else self.home / "watchlist.txt"

    @classmethod
    def load(cls, home: Path | None = None, **overrides: Any) -> Config:
        cfg = cls(home=home or default_home())
        file_values: dict[str, Any] = {}
        path = cfg.home / "config.toml"
        if path.exists():
            try:
                file_values = tomllib.loads(path.read_text("utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{path}: {exc}") from exc
        known = {f.name: f for f in fields(cls)}
        for key, value in file_values.items():
            if key in known and key != "home":
                setattr(cfg, key, _coerce(known[key].type, value, f"{path}:{key}"))
            else:
                cfg.extra[key] = value
        for key, f in known.items():
            env = os.environ.get(f"VIGIL_{key.upper()}")
            if env is not None and key != "home":
                setattr(cfg, key, _coerce(f.type, env, f"VIGIL_{key.upper()}"))
        for key, value in overrides.items():
            setattr(cfg, key, value)
        return cfg


def _coerce(type_name: Any, value: Any, where: str) -> Any:
    name = str(type_name)
    try:
        if name == "bool":
            return value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes", "on"}
        if name == "int":
            return int(value)
        if name == "float":
            return float(value)
        if name.startswith("tuple"):
            return tuple(value) if isinstance(value, list) else tuple(v for v in str(value).split(",") if v)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    return value
