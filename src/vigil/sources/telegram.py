"""Telegram Desktop exports: a folder with ``result.json`` (one chat, or the whole account's ``chats.list``).

``result.json`` is streamed with ijson, one message at a time, so a multi-gigabyte export never sits in
memory. Text may be a string or a list of entities (flattened; ``text_link`` targets kept as links).
Media files named by a message (``photo``, ``file``, ``thumbnail``) are read relative to the export folder,
stored through the media sink and attached to the item; the walker does not scan them again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import ijson

from vigil.core.model import Account, Item, Media, Origin, Quarantined, make_item_id
from vigil.errors import SourceError
from vigil.sources.base import Record, Source, SourceContext, guess_mime
from vigil.sources.jsonstream import JSON_ERRORS, CountingReader
from vigil.sources.records import parse_date

RESULT = "result.json"
_MSG_PREFIXES = frozenset(
    {"messages.item", "chats.list.item.messages.item", "left_chats.list.item.messages.item"}
)
_CHAT_PREFIXES = {
    "": "",
    "chats.list.item": "chats.list.item",
    "left_chats.list.item": "left_chats.list.item",
}
_CHANNEL_TYPES = {"public_channel", "private_channel"}
_MEDIA_FIELDS = ("photo", "file", "thumbnail")
_NOT_INCLUDED = "(File not included"


def flatten_text(value: Any) -> tuple[str, list[str]]:
    """Telegram text (a string, or a list of strings and entity objects) -> plain text and its links."""
    if isinstance(value, str):
        return value, []
    if not isinstance(value, list):
        raise ValueError(f"text must be a string or a list, found {type(value).__name__}")
    parts: list[str] = []
    links: list[str] = []
    for part in value:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict):
            text = part.get("text")
            text = text if isinstance(text, str) else ""
            parts.append(text)
            kind = part.get("type")
            if kind == "text_link" and isinstance(part.get("href"), str):
                links.append(part["href"])
            elif kind == "link" and text.startswith(("http://", "https://")):
                links.append(text)
        else:
            raise ValueError(f"text entity must be a string or an object, found {type(part).__name__}")
    return "".join(parts), links


class TelegramSource(Source):
    name = "telegram"
    reads_folders = True

    def sniff(self, path: Path, head: bytes) -> float:
        result = path / RESULT if path.is_dir() else path
        if result.name != RESULT or not result.is_file():
            return 0.0
        with result.open("rb") as fh:
            start = fh.read(4096)
        if any(k in start for k in (b'"messages"', b'"chats"', b'"personal_information"')):
            return 0.9
        return 0.5 if start.lstrip().startswith(b'{\n "about"') or b'"about":' in start[:200] else 0.0

    def claimed_files(self, path: Path) -> set[Path]:
        """``result.json``, the HTML view of an export, and everything in its sub-folders (its media)."""
        folder = path if path.is_dir() else path.parent
        claimed = {folder / RESULT}
        claimed.update(p for p in folder.glob("*.html") if p.is_file())
        for sub in folder.iterdir():
            if sub.is_dir():
                claimed.update(p for p in sub.rglob("*") if p.is_file())
        return claimed

    def read(self, path: Path, ctx: SourceContext) -> Iterator[Record]:
        folder = path if path.is_dir() else path.parent
        result = folder / RESULT
        source = str(result)
        if not result.is_file():
            raise SourceError(f"no {RESULT} here: not a Telegram Desktop export (JSON format)", str(path))
        size = result.stat().st_size
        if size > ctx.max_file_bytes:
            yield Quarantined(source, "file", f"file larger than {ctx.max_file_bytes} bytes; not read")
            return
        with result.open("rb") as raw:
            counter = CountingReader(raw)
            reader = _MessageReader(self, folder, source, ctx)
            try:
                for prefix, event, value in ijson.parse(counter):
                    if type(value) is Decimal:
                        value = float(value)
                    yield from reader.feed(prefix, event, value)
            except JSON_ERRORS as exc:
                where = f"byte {counter.offset}" + (f" after {reader.last}" if reader.last else "")
                reason = f"truncated or invalid JSON: {str(exc)[:200]}; the rest of the file is unread"
                yield Quarantined(source, where, reason)


class _MessageReader:
    """Turns ijson events into messages, tracking which chat each belongs to."""

    def __init__(self, src: TelegramSource, folder: Path, source: str, ctx: SourceContext) -> None:
        self.src, self.folder, self.source, self.ctx = src, folder, source, ctx
        self.chat: dict[str, Any] = {}
        self.builder: ijson.ObjectBuilder | None = None
        self.prefix = ""
        self.depth = 0
        self.size = 0
        self.oversize = False
        self.index = 0
        self.last = ""

    def feed(self, prefix: str, event: str, value: Any) -> Iterator[Record]:
        if self.depth == 0:
            if event == "start_map" and prefix in _MSG_PREFIXES:
                self.prefix, self.depth, self.size, self.oversize = prefix, 1, 0, False
                self.builder = ijson.ObjectBuilder()
                self.builder.event(event, value)
                return
            if event in {"string", "number", "boolean", "null"} and prefix in _MSG_PREFIXES:
                self.index += 1
                where = f"chat {self.chat.get('id', '?')} message #{self.index}"
                yield Quarantined(self.source, where, f"message is not an object: {str(value)[:80]!r}")
                return
            if event == "start_map" and prefix in _CHAT_PREFIXES and prefix:
                self.chat = {}
            parent, _, key = prefix.rpartition(".")
            if key in {"name", "type", "id"} and parent in _CHAT_PREFIXES and event in {"string", "number"}:
                self.chat[key] = value
            return
        if event in {"start_map", "start_array"}:
            self.depth += 1
        elif event in {"end_map", "end_array"}:
            self.depth -= 1
        elif isinstance(value, str):
            self.size += len(value)
        if not self.oversize and self.builder is not None:
            if self.size > self.ctx.max_record_bytes:
                self.oversize, self.builder = True, None
            else:
                self.builder.event(event, value)
        if self.depth == 0:
            self.index += 1
            yield self._finish()

    def _finish(self) -> Record:
        chat_id = str(self.chat.get("id", ""))
        where = f"chat {chat_id or '?'} message #{self.index}"
        if self.oversize or self.builder is None:
            return Quarantined(
                self.source, where, f"message longer than {self.ctx.max_record_bytes} characters"
            )
        msg = self.builder.value
        self.builder = None
        native = msg.get("id")
        if isinstance(native, int | str) and not isinstance(native, bool) and str(native):
            where = f"chat {chat_id or '?'} message {native}"
            self.last = f"message {native}"
        else:
            return Quarantined(self.source, where, "message has no id", _excerpt(msg))
        try:
            return self._item(msg, chat_id, str(native), where)
        except ValueError as exc:
            return Quarantined(self.source, where, str(exc), _excerpt(msg))

    def _item(self, msg: dict[str, Any], chat_id: str, native: str, where: str) -> Item:
        text, links = flatten_text(msg.get("text", ""))
        chat_type = str(self.chat.get("type", ""))
        channel = Account(
            "telegram",
            native_id=chat_id or None,
            display_name=_str(self.chat.get("name")),
            is_channel=chat_type in _CHANNEL_TYPES,
        )
        account = None
        if msg.get("from_id") or msg.get("from"):
            account = Account(
                "telegram", native_id=_str(msg.get("from_id")), display_name=_str(msg.get("from"))
            )
        media, notes = self._media(msg)
        published = parse_date(_unix(msg.get("date_unixtime"))) or parse_date(msg.get("date"))
        reply = msg.get("reply_to_message_id")
        meta: dict[str, Any] = {
            k: msg[k]
            for k in (
                "type",
                "edited",
                "media_type",
                "mime_type",
                "via_bot",
                "sticker_emoji",
                "duration_seconds",
            )
            if k in msg and isinstance(msg[k], str | int | float)
        }
        meta.update({"chat": _str(self.chat.get("name")), "chat_type": chat_type})
        if notes:
            meta["media_notes"] = notes
        key = f"{chat_id}:{native}"
        return Item(
            id=make_item_id(self.src.name, key, text),
            source=self.src.name,
            text=text,
            native_id=key,
            account=account,
            channel=channel,
            published=published,
            media=media,
            links=links,
            reply_to=f"{chat_id}:{reply}" if isinstance(reply, int | str) and reply != "" else None,
            forwarded_from=_str(msg.get("forwarded_from")),
            origin=Origin(self.source, where, self.src.name),
            meta=meta,
        )

    def _media(self, msg: dict[str, Any]) -> tuple[list[Media], list[str]]:
        found: list[Media] = []
        notes: list[str] = []
        for field in _MEDIA_FIELDS:
            rel = msg.get(field)
            if not isinstance(rel, str) or not rel:
                continue
            if rel.startswith(_NOT_INCLUDED):
                notes.append(f"{field}: not included in the export")
                continue
            target = (self.folder / rel).resolve()
            if os.path.isabs(rel) or not target.is_relative_to(self.folder.resolve()):
                notes.append(f"{field}: path {rel!r} leaves the export folder; not read")
                continue
            if not target.is_file():
                notes.append(f"{field}: {rel} is missing")
                continue
            mime = msg.get("mime_type") if field == "file" and isinstance(msg.get("mime_type"), str) else None
            try:
                m = self.ctx.media.put_file(target, mime or guess_mime(target.name), self.ctx.max_file_bytes)
            except (OSError, ValueError) as exc:
                notes.append(f"{field}: {rel}: {exc}")
                continue
            m.name = rel
            found.append(m)
        return found, notes


def _str(value: Any) -> str | None:
    return (
        str(value) if isinstance(value, str | int) and not isinstance(value, bool) and value != "" else None
    )


def _unix(value: Any) -> int | None:
    try:
        return int(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
    except ValueError:
        return None


def _excerpt(msg: Any) -> str:
    return repr(msg)[:200]
