"""Privacy and retention settings, read from ``[privacy]`` and ``[retention]`` in config.toml
(``Config.extra``). Every value has a default; a bad value is a ``ConfigError`` naming the key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vigil.config import Config
from vigil.errors import ConfigError
from vigil.net.smtp import checked_address

# Item meta keys (lower case) whose values identify a person, and the pseudonym kind each gets.
DEFAULT_META_KEYS: dict[str, str] = {
    "email": "email",
    "e-mail": "email",
    "mail": "email",
    "phone": "phone",
    "telephone": "phone",
    "mobile": "phone",
    "author_url": "url",
    "profile_url": "url",
    "user_url": "url",
    "account_url": "url",
    "user_id": "user_id",
    "author_id": "user_id",
    "sender_id": "user_id",
    "from_id": "user_id",
    "username": "handle",
    "screen_name": "handle",
    "author": "handle",
    "sender": "handle",
    "from": "handle",
    "user": "handle",
    "display_name": "name",
    "author_name": "name",
}

DEFAULT_GATED_STATES = ("proposed", "approved", "sent")


@dataclass(slots=True)
class PrivacySettings:
    pseudonymise: bool = True
    reveal_roles: tuple[str, ...] = ("dpo",)
    reveal_ttl_minutes: int = 15
    reveal_show_seconds: int = 60  # how long the UI shows a revealed value before hiding it again
    meta_keys: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_META_KEYS))
    gated_states: tuple[str, ...] = DEFAULT_GATED_STATES
    legal_basis: dict[str, str] = field(default_factory=dict)
    dnr_max_days: int = 730
    notify_email: dict[str, str] = field(default_factory=dict)  # owner (user name) -> e-mail address
    notify_retry_s: int = 60  # first wait after a failed e-mail; doubles per failure, at most 6 hours

    @classmethod
    def from_config(cls, config: Config) -> PrivacySettings:
        raw = _section(config, "privacy")
        out = cls()
        if "pseudonymise" in raw:
            out.pseudonymise = _bool(raw["pseudonymise"], "privacy.pseudonymise")
        if "reveal_roles" in raw:
            out.reveal_roles = tuple(_str_list(raw["reveal_roles"], "privacy.reveal_roles"))
        if "reveal_ttl_minutes" in raw:
            out.reveal_ttl_minutes = _positive_int(raw["reveal_ttl_minutes"], "privacy.reveal_ttl_minutes")
        if "reveal_show_seconds" in raw:
            out.reveal_show_seconds = _positive_int(raw["reveal_show_seconds"], "privacy.reveal_show_seconds")
        if "meta_identifier_keys" in raw:
            keys = raw["meta_identifier_keys"]
            if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
                raise ConfigError("privacy.meta_identifier_keys: expected a table of key = kind")
            out.meta_keys = {str(k).lower(): v for k, v in keys.items()}
        if "gated_states" in raw:
            out.gated_states = tuple(_str_list(raw["gated_states"], "privacy.gated_states"))
        if "legal_basis" in raw:
            basis = raw["legal_basis"]
            if not isinstance(basis, dict):
                raise ConfigError("privacy.legal_basis: expected a table of data class = text")
            out.legal_basis = {str(k): str(v) for k, v in basis.items()}
        if "dnr_max_days" in raw:
            out.dnr_max_days = _positive_int(raw["dnr_max_days"], "privacy.dnr_max_days")
        if "notify_email" in raw:
            table = raw["notify_email"]
            if not isinstance(table, dict):
                raise ConfigError("privacy.notify_email: expected a table of user name = e-mail address")
            out.notify_email = {
                str(k): checked_address(v, f"privacy.notify_email.{k}") for k, v in table.items()
            }
        if "notify_retry_s" in raw:
            out.notify_retry_s = _positive_int(raw["notify_retry_s"], "privacy.notify_retry_s")
        return out


@dataclass(slots=True)
class RetentionPolicy:
    """Days each data class is kept. ``None`` means never deleted (the audit log, always)."""

    raw_items_days: int = 90
    dismissed_cases_days: int = 180
    confirmed_cases_days: int = 730
    evidence_after_removal_days: int = 183
    batch_size: int = 500

    @property
    def audit_log_days(self) -> None:
        return None

    @classmethod
    def from_config(cls, config: Config) -> RetentionPolicy:
        raw = _section(config, "retention")
        if "evidence_retention_days" in config.extra:
            raise ConfigError(
                "evidence_retention_days: set [retention] evidence_after_removal_days instead (one policy)"
            )
        if "audit_log_days" in raw:
            raise ConfigError("retention.audit_log_days: the audit log is never deleted")
        out = cls()
        for key in (
            "raw_items_days",
            "dismissed_cases_days",
            "confirmed_cases_days",
            "evidence_after_removal_days",
            "batch_size",
        ):
            if key in raw:
                setattr(out, key, _positive_int(raw[key], f"retention.{key}"))
        unknown = set(raw) - {
            "raw_items_days",
            "dismissed_cases_days",
            "confirmed_cases_days",
            "evidence_after_removal_days",
            "batch_size",
        }
        if unknown:
            raise ConfigError(f"retention: unknown keys {sorted(unknown)}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "raw_items_days": self.raw_items_days,
            "dismissed_cases_days": self.dismissed_cases_days,
            "confirmed_cases_days": self.confirmed_cases_days,
            "evidence_after_removal_days": self.evidence_after_removal_days,
            "audit_log_days": None,
            "batch_size": self.batch_size,
        }


def _section(config: Config, name: str) -> dict[str, Any]:
    raw = config.extra.get(name, {})
    if not isinstance(raw, dict):
        raise ConfigError(f"[{name}] must be a table")
    return raw


def _bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
        return value.lower() in {"1", "true", "yes", "on"}
    raise ConfigError(f"{where}: expected true or false, found {value!r}")


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConfigError(f"{where}: expected a positive whole number, found {value!r}")
    try:
        number = int(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: expected a positive whole number, found {value!r}") from exc
    if number <= 0:
        raise ConfigError(f"{where}: expected a positive whole number, found {value!r}")
    return number


def _str_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of names")
    return list(value)
