"""Turn a flat record (a JSON object, a CSV row) into an Item: known fields mapped, the rest kept as meta."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from vigil.core.model import Account, Item, Origin, make_item_id
from vigil.errors import RecordError

TEXT_FIELDS = ("text",)
ID_FIELDS = ("id", "native_id")
ACCOUNT_FIELDS = ("account", "username", "user", "author", "screen_name")
DATE_FIELDS = ("published", "date", "created_at", "time", "timestamp")
_DATE_FORMATS = ("%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


def parse_date(value: Any) -> datetime | None:
    """Best effort: ISO 8601, RFC 2822, Unix seconds, and a few common day-first forms. None if unsure."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    if not text or len(text) > 64:
        return None
    candidates: list[datetime | None] = []
    with suppress(ValueError):
        candidates.append(datetime.fromisoformat(text.replace("Z", "+00:00")))
    if not candidates:
        with suppress(TypeError, ValueError, IndexError):
            candidates.append(parsedate_to_datetime(text))
    if not candidates:
        for fmt in _DATE_FORMATS:
            try:
                candidates.append(datetime.strptime(text, fmt))
                break
            except ValueError:
                continue
    for found in candidates:
        if found is not None:
            return found if found.tzinfo else found.replace(tzinfo=UTC)
    return None


def _first(obj: dict[str, Any], names: tuple[str, ...]) -> tuple[str | None, Any]:
    for name in names:
        if name in obj and obj[name] not in (None, ""):
            return name, obj[name]
    return None, None


def record_to_item(obj: Any, source: str, origin: Origin, platform: str = "") -> Item:
    """Map a flat record to an Item. Raises RecordError when the record has no usable text."""
    if not isinstance(obj, dict):
        raise RecordError(f"expected an object, found {type(obj).__name__}", origin.location)
    text_key, text = _first(obj, TEXT_FIELDS)
    if text_key is None:
        raise RecordError("missing field 'text'", origin.location)
    if not isinstance(text, str):
        raise RecordError(f"field 'text' must be a string, found {type(text).__name__}", origin.location)
    used = {text_key}
    id_key, native = _first(obj, ID_FIELDS)
    if id_key:
        used.add(id_key)
        if isinstance(native, dict | list):
            raise RecordError(f"field {id_key!r} must be a string or number", origin.location)
        native = str(native)
    account = None
    acc_key, acc = _first(obj, ACCOUNT_FIELDS)
    if acc_key and isinstance(acc, str | int):
        used.add(acc_key)
        account = Account(platform=platform or source, handle=str(acc))
    channel = None
    if isinstance(obj.get("channel"), str | int):
        used.add("channel")
        channel = Account(platform=platform or source, handle=str(obj["channel"]), is_channel=True)
    date_key, date = _first(obj, DATE_FIELDS)
    published = parse_date(date) if date_key else None
    if published is not None and date_key:
        used.add(date_key)
    url = obj.get("url") if isinstance(obj.get("url"), str) else None
    if url:
        used.add("url")
    lang = obj.get("lang") if isinstance(obj.get("lang"), str) else None
    if lang:
        used.add("lang")
    links = (
        [x for x in obj.get("links") or [] if isinstance(x, str)]
        if isinstance(obj.get("links"), list)
        else []
    )
    if links:
        used.add("links")
    meta = {k: v for k, v in obj.items() if k not in used}
    return Item(
        id=make_item_id(source, native, text, url),
        source=source,
        text=text,
        native_id=native,
        url=url,
        account=account,
        channel=channel,
        published=published,
        lang=lang,
        links=links,
        origin=origin,
        meta=meta,
    )
