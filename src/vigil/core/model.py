"""The core data model: what every source yields and every later stage consumes.

Plain dataclasses, typed and serialisable with ``to_dict``/``from_dict`` (JSON-safe values only).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_item_id(source: str, native_id: str | None, text: str = "", url: str | None = None) -> str:
    """Stable id: from the source kind and the native id, or from the content when there is none."""
    if native_id:
        key = f"{source}\x1f{native_id}"
    else:
        key = f"{source}\x1fcontent\x1f{url or ''}\x1f{text}"
    return sha256_hex(key.encode("utf-8", "surrogatepass"))[:32]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(slots=True)
class Origin:
    """Where an item came from: the file or URL, and where inside it (line, record, message id)."""

    source: str
    location: str = ""
    fmt: str = ""


@dataclass(slots=True)
class Media:
    """Bytes addressed by SHA-256. ``name`` is the file name or URL it had where it was found."""

    sha256: str
    mime: str
    size: int
    name: str | None = None
    url: str | None = None
    kind: str = "other"  # image | video | audio | document | other


@dataclass(slots=True)
class Account:
    """An account on a platform, or a channel (``is_channel``)."""

    platform: str
    native_id: str | None = None
    handle: str | None = None
    display_name: str | None = None
    is_channel: bool = False

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.native_id or self.handle or ''}"


@dataclass(slots=True)
class Item:
    id: str
    source: str
    text: str
    native_id: str | None = None
    html: str | None = None
    url: str | None = None
    account: Account | None = None
    channel: Account | None = None
    published: datetime | None = None
    lang: str | None = None
    media: list[Media] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    reply_to: str | None = None
    forwarded_from: str | None = None
    origin: Origin | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["published"] = _iso(self.published)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Item:
        data = dict(data)
        for key in ("account", "channel"):
            if data.get(key):
                data[key] = Account(**data[key])
        if data.get("origin"):
            data["origin"] = Origin(**data["origin"])
        data["media"] = [Media(**m) for m in data.get("media") or []]
        data["published"] = _from_iso(data.get("published"))
        return cls(**data)


@dataclass(slots=True)
class Reason:
    """Why a detector scored an item: a short explanation and, where it applies, a span of the raw text."""

    text: str
    start: int | None = None
    end: int | None = None
    weight: float = 0.0


@dataclass(slots=True)
class Signal:
    """One detector's verdict on one item."""

    item_id: str
    detector: str
    score: float
    threshold: float
    reasons: list[Reason] = field(default_factory=list)
    version: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def hit(self) -> bool:
        return self.score >= self.threshold

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signal:
        data = dict(data)
        data["reasons"] = [Reason(**r) for r in data.get("reasons") or []]
        return cls(**data)


class CaseState(StrEnum):
    NEW = "new"
    TRIAGE = "triage"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    DECISION = "decision"
    PROPOSED = "proposed"
    APPROVED = "approved"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    REMOVED = "removed"
    REFUSED = "refused"
    NO_RESPONSE = "no_response"
    RECHECK = "recheck"
    CLOSED = "closed"


class Severity(StrEnum):
    THREAT_TO_LIFE = "threat_to_life"
    LIVE_ATTACK = "live_attack"
    OFFICIAL_RELEASE = "official_release"
    INSTRUCTIONAL = "instructional"
    OTHER = "other"


@dataclass(slots=True)
class Case:
    id: int | None
    item_id: str
    state: CaseState = CaseState.NEW
    severity: Severity = Severity.OTHER
    score: float = 0.0
    title: str = ""
    opened_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["state"] = str(self.state)
        out["severity"] = str(self.severity)
        out["opened_at"] = _iso(self.opened_at)
        out["updated_at"] = _iso(self.updated_at)
        return out


@dataclass(slots=True)
class Quarantined:
    """A record that could not be read, set aside with where it was and why."""

    source: str
    location: str
    reason: str
    excerpt: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
