"""The messages on the queue between ingestion and detection: an Item as JSON, its id as message id."""

from __future__ import annotations

import json
from typing import Any

from vigil.core.model import Item
from vigil.errors import RecordError

#: NATS refuses messages over its max_payload (1 MiB by default); an item's HTML goes first.
MAX_MESSAGE_BYTES = 900 * 1024


def encode_item(item: Item) -> bytes:
    data = json.dumps(item.to_dict(), ensure_ascii=False, default=str).encode("utf-8")
    if len(data) > MAX_MESSAGE_BYTES and item.html:
        slim = item.to_dict()
        slim["html"] = None
        slim["meta"] = {**slim["meta"], "html_dropped": "too large for the queue"}
        data = json.dumps(slim, ensure_ascii=False, default=str).encode("utf-8")
    if len(data) > MAX_MESSAGE_BYTES:
        raise RecordError(f"item {item.id} is {len(data)} bytes, over the queue's {MAX_MESSAGE_BYTES}")
    return data


def decode_item(data: bytes) -> Item:
    try:
        obj: Any = json.loads(data)
        if not isinstance(obj, dict):
            raise TypeError("not an object")
        return Item.from_dict(obj)
    except (ValueError, TypeError, KeyError) as exc:
        raise RecordError(f"undecodable queue message: {exc}") from exc


def subject_of(stream: str) -> str:
    return f"{stream}.items"


def durable_of(stream: str) -> str:
    return f"{stream}_workers"
