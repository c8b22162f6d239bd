"""Telegram Desktop exports: a folder with ``result.json`` (one chat, or the whole account's ``chats.list``),
or such a JSON file under another name.

``result.json`` is streamed with ijson, one message at a time, so a multi-gigabyte export never sits in
memory. Text may be a string or a list of entities (flattened; ``text_link`` targets kept as links).
Media files named by a message (``photo``, ``file``, ``thumbnail``) are read relative to the export folder,
stored through the media sink and attached to the item; the walker does not scan them again.

Peers as the exporter writes them (``export_output_json.cpp``): a chat's ``id`` is the bare peer id;
``from_id``, ``actor_id`` and ``forwarded_from_id`` are ``user<id>``, ``channel<id>`` (channels and
supergroups) or ``chat<id>`` (basic groups); ``from`` and ``forwarded_from`` are display names. vigil keys
a channel or group by its bare id (so a chat's header, a ``from_id`` and a ``forwarded_from_id`` naming it
give one key) and a user by ``user<id>``:

- a post whose ``from_id`` is the chat itself (a channel's own post, an anonymous group admin) has no
  account: the channel speaks;
- channels, supergroups and basic groups are venues (``is_channel``); their members post in them;
- ``forwarded_from_id`` becomes ``forwarded_from`` = ``telegram:<key>`` with ``meta.forwarded_from_kind``
  ``channel`` or ``account``, so the graph makes one node for a channel whichever export is scanned first;
  a forward that names only a display name (hidden sender) keeps the name.
"""

from __future__ import annotations

import os
import re
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
_GROUP_TYPES = {"public_supergroup", "private_supergroup", "private_group"}
_VENUE_TYPES = _CHANNEL_TYPES | _GROUP_TYPES
_CHAT_TYPES = _VENUE_TYPES | {"personal_chat", "bot_chat", "saved_messages", "replies"}
_PEER = re.compile(r"^(user|channel|chat)(-?\d+)$")
#: What the head of an export's JSON looks like when the file is not named ``result.json``.
_EXPORT_HEAD = re.compile(
    rb'"type"\s*:\s*"(?:' + "|".join(sorted(_CHAT_TYPES)).encode() + rb')"\s*,\s*"id"\s*:\s*-?\d'
    rb'|"personal_information"\s*:|"chats"\s*:\s*\{\s*"about"'
)
_MEDIA_FIELDS = ("photo", "file", "thumbnail")
#: What the exporter writes instead of a path when a file was not saved (skipped by type or size, or
#: unavailable); the photo variants say "Photo" for "File".
_SKIPPED = ("(File not included", "(File exceeds maximum size", "(File unavailable", "(Photo ")


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
    #: An export's JSON file under another name than ``result.json`` is read too.
    reads_files = True

    def sniff(self, path: Path, head: bytes) -> float:
        if path.is_file() and path.name != RESULT:
            return 0.85 if head.lstrip().startswith(b"{") and _EXPORT_HEAD.search(head) else 0.0
        result = path / RESULT if path.is_dir() else path
        if result.name != RESULT or not result.is_file():
            return 0.0
        with result.open("rb") as fh:
            start = fh.read(4096)
        if any(
            k in start for k in (b'"messages"', b'"chats"', b'"personal_information"')
        ) or _EXPORT_HEAD.search(start):
            return 0.9
        # The exporter's own layout, however early the file was cut: '{' then "about" or "name".
        layout = start.lstrip().startswith((b'{\n "about"', b'{\n "name"')) or b'"about":' in start[:200]
        return 0.5 if layout else 0.0

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
        result = path if path.is_file() else folder / RESULT
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
                error = " ".join(str(exc).split())
                cut = counter.offset >= size and (
                    "premature eof" in error.lower() or "incomplete" in error.lower()
                )
                what = "truncated Telegram export" if cut else "invalid JSON in a Telegram export"
                reason = (
                    f"{what}: {reader.index} complete messages before the break were read; "
                    f"{error[:200]}; the rest of the file is unread"
                )
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
        poll = msg.get("poll")
        if not text and isinstance(poll, dict):  # a poll's words are in the poll, not in "text"
            answers = [a.get("text") for a in poll.get("answers") or [] if isinstance(a, dict)]
            text = "\n".join(t for t in [poll.get("question"), *answers] if isinstance(t, str) and t)
        chat_type = str(self.chat.get("type", ""))
        channel = _chat_account(chat_id, chat_type, _str(self.chat.get("name")))
        account = _sender(msg, channel)
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
                "author",
                "action",
                "file_name",
                "forwarded_from_message_id",
            )
            if k in msg and isinstance(msg[k], str | int | float) and not isinstance(msg[k], bool)
        }
        meta.update({"chat": _str(self.chat.get("name")), "chat_type": chat_type})
        forwarded = _forward(msg, meta)
        reply_peer = _peer(msg.get("reply_to_peer_id"))
        if notes:
            meta["media_notes"] = notes
        key = f"{chat_id}:{native}"
        reply_chat = reply_peer[1] if reply_peer and reply_peer[0] != "user" else chat_id
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
            reply_to=f"{reply_chat}:{reply}" if isinstance(reply, int | str) and reply != "" else None,
            forwarded_from=forwarded,
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
            if rel.startswith(_SKIPPED):
                notes.append(f"{field}: not included in the export ({rel.strip('()').split('.')[0]})")
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


def _peer(value: Any) -> tuple[str, str] | None:
    """``("user"|"channel"|"chat", id)`` of a peer id as the exporter writes it (``channel123``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return ("user", str(value)) if value > 0 else None  # older exports: a user's bare id
    if not isinstance(value, str):
        return None
    found = _PEER.match(value.strip())
    return (found.group(1), found.group(2)) if found else None


def _peer_key(kind: str, bare: str) -> str:
    """The account native id vigil uses for a peer: the bare id for channels and groups, ``user<id>``."""
    return f"user{bare}" if kind == "user" else bare


def _chat_account(chat_id: str, chat_type: str, name: str | None) -> Account | None:
    """The venue an export's chat is: a channel or group (``is_channel``), or the other side of a
    personal chat (keyed as that user, so it is one node with the person's own posts)."""
    if not chat_id:
        return None
    if chat_type in _VENUE_TYPES or not chat_type:
        return Account("telegram", native_id=chat_id, display_name=name, is_channel=bool(chat_type))
    return Account("telegram", native_id=f"user{chat_id}", display_name=name)


def _sender(msg: dict[str, Any], chat: Account | None) -> Account | None:
    """Who posted: a user, another channel (a linked channel posting in its discussion group), or None
    when the chat itself speaks (a channel's own post, an anonymous group admin)."""
    raw = msg.get("from_id", msg.get("actor_id"))
    name = _str(msg.get("from", msg.get("actor")))
    peer = _peer(raw)
    if peer is None:
        if raw in (None, "") and name is None:
            return None
        return Account("telegram", native_id=_str(raw), display_name=name)
    kind, bare = peer
    key = _peer_key(kind, bare)
    if chat is not None and chat.is_channel and key == chat.native_id:
        return None
    return Account("telegram", native_id=key, display_name=name, is_channel=kind != "user")


def _forward(msg: dict[str, Any], meta: dict[str, Any]) -> str | None:
    """``telegram:<key>`` of the forwarded source when the export names its id (kind in ``meta``);
    the display name when only that is known (a sender who hides their account)."""
    peer = _peer(msg.get("forwarded_from_id")) or _peer(msg.get("saved_from_id"))
    if peer is not None:
        kind, bare = peer
        meta["forwarded_from_kind"] = "account" if kind == "user" else "channel"
        return f"telegram:{_peer_key(kind, bare)}"
    return _str(msg.get("forwarded_from")) or _str(msg.get("saved_from"))


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
