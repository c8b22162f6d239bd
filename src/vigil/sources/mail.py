"""Newsletters by e-mail: mbox files (streamed, one message at a time) and single .eml messages.

Text and HTML parts are read (HTML -> text when there is no plain part), attachments are stored as media,
and From / Date / Subject / Message-ID become account, published time, metadata and native id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path
from typing import Any, BinaryIO

from vigil.core.model import Account, Item, Media, Origin, Quarantined, make_item_id
from vigil.sources.base import Record, Source, SourceContext, excerpt
from vigil.sources.html import html_to_text, links_and_images
from vigil.sources.mailheaders import decode_header
from vigil.sources.records import parse_date

PLATFORM = "email"
_HEADER = re.compile(
    rb"^(from|to|subject|date|message-id|mime-version|received|return-path|content-type|reply-to):",
    re.IGNORECASE | re.MULTILINE,
)
#: compat32 keeps header values as they came; ``mailheaders`` decodes the few used, in linear time.
_PARSER = BytesParser(policy=policy.compat32)
#: Headers kept only as metadata (and From, Message-ID) are clipped to this before they are decoded.
MAX_META_HEADER = 4000


def _headers(msg: Message) -> dict[str, str]:
    """The first value of each header, by lower-case name, as it came (linear in the header size)."""
    found: dict[str, str] = {}
    for name, value in msg.raw_items():
        found.setdefault(str(name).lower(), value if isinstance(value, str) else str(value))
    return found


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except (LookupError, ValueError):
        return None


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        payload = str(part.get_payload() or "").encode("utf-8", "surrogateescape")
    for candidate in (_charset(part), "utf-8", "cp1252"):
        if not candidate:
            continue
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")


def message_to_record(data: bytes, name: str, source: str, where: str, ctx: SourceContext) -> Record:
    """One raw message -> an Item, or Quarantined when it is not a usable message."""
    if len(data) > ctx.max_record_bytes:
        return Quarantined(source, where, f"message longer than {ctx.max_record_bytes} bytes")
    try:
        msg = _PARSER.parsebytes(data)
        return _to_item(msg, name, source, where, ctx)
    except _Unusable as exc:
        return Quarantined(source, where, str(exc), excerpt(data))
    except Exception as exc:  # the e-mail package fails in many ways on hostile input: keep the record
        return Quarantined(source, where, f"malformed message: {type(exc).__name__}: {exc}", excerpt(data))


class _Unusable(ValueError):
    pass


def _to_item(msg: Message, name: str, source: str, where: str, ctx: SourceContext) -> Item:
    headers = _headers(msg)
    if not headers.keys() & {"from", "subject", "date", "message-id"}:
        raise _Unusable("not an e-mail message: no From, Subject, Date or Message-ID header")
    charset = _charset(msg)

    def header(key: str, limit: int | None = None) -> str:
        value = headers.get(key.lower())
        return decode_header(value, charset, limit) if value else ""

    subject = header("Subject")
    message_id = header("Message-ID", MAX_META_HEADER).strip("<>") or None
    plain: list[str] = []
    htmls: list[str] = []
    media: list[Media] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        ctype = part.get_content_type()
        filename = part.get_filename()
        filename = decode_header(filename, charset, 1000) if isinstance(filename, str) else None
        if disposition == "attachment" or (filename and not ctype.startswith("text/")):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and payload:
                media.append(ctx.media.put_bytes(payload, filename or "attachment", ctype))
        elif ctype == "text/plain":
            plain.append(_part_text(part))
        elif ctype == "text/html":
            htmls.append(_part_text(part))
    html = "\n".join(h for h in htmls if h.strip()) or None
    body = "\n\n".join(p.strip() for p in plain if p.strip()) or (html_to_text(html) if html else "")
    if not subject and not body and not media:
        raise _Unusable("message has no subject, no text and no attachments")
    text = f"{subject}\n\n{body}".strip() if subject else body
    sender = getaddresses([header("From", MAX_META_HEADER)])
    display, address = sender[0] if sender else ("", "")
    links, images = links_and_images(html) if html else ([], [])
    meta: dict[str, Any] = {"subject": subject}
    for key in ("To", "List-Id", "List-Unsubscribe"):
        if value := header(key, MAX_META_HEADER):
            meta[key.lower()] = value[:500]
    if images:
        meta["images"] = images
    return Item(
        id=make_item_id(name, message_id, text),
        source=name,
        text=text,
        native_id=message_id,
        html=html,
        account=Account(
            PLATFORM, native_id=address.lower(), handle=address.lower(), display_name=display or None
        )
        if address
        else None,
        published=parse_date(header("Date", 200)),
        media=media,
        links=links,
        origin=Origin(source, where, name),
        meta=meta,
    )


class EmlSource(Source):
    name = "eml"

    def sniff(self, path: Path, head: bytes) -> float:
        if head.startswith(b"From "):
            return 0.0
        headers = len(set(m.group(1).lower() for m in _HEADER.finditer(head[:4096])))
        if path.suffix.lower() == ".eml":
            return 0.8 if headers else 0.5
        return 0.7 if headers >= 3 and _HEADER.match(head) else 0.0

    def read(self, path: Path, ctx: SourceContext) -> Iterator[Record]:
        source = str(path)
        with path.open("rb") as fh:
            data = fh.read(ctx.max_record_bytes + 1)
        yield message_to_record(data, self.name, source, "message 1", ctx)


class MboxSource(Source):
    name = "mbox"

    def sniff(self, path: Path, head: bytes) -> float:
        if head.startswith(b"From ") and _HEADER.search(head[:4096]):
            return 0.9
        return 0.5 if path.suffix.lower() == ".mbox" else 0.0

    def read(self, path: Path, ctx: SourceContext) -> Iterator[Record]:
        source = str(path)
        with path.open("rb") as fh:
            for number, offset, data, oversize in split_mbox(fh, ctx.max_record_bytes):
                where = f"message {number} at byte {offset}"
                if oversize:
                    yield Quarantined(source, where, f"message longer than {ctx.max_record_bytes} bytes")
                else:
                    yield message_to_record(data, self.name, source, where, ctx)


def split_mbox(fh: BinaryIO, max_bytes: int) -> Iterator[tuple[int, int, bytes, bool]]:
    """Yield ``(number, byte offset, message bytes, oversize)`` per message; ``>From `` lines unquoted.
    Never holds more than ``max_bytes`` of one message.

    A message starts at every line that begins with ``From ``, blank line before it or not, as Python's
    ``mailbox.mbox`` splits (a writer that does not quote ``From `` in bodies splits there for both)."""
    number = 0
    offset = start = 0
    parts: list[bytes] = []
    size = 0
    oversize = False
    started = False
    at_line_start = True
    while True:
        line = fh.readline(1 << 16)
        if not line:
            break
        here = offset
        offset += len(line)
        line_start, at_line_start = at_line_start, line.endswith(b"\n")
        if line_start and line.startswith(b"From "):
            if started:
                number += 1
                yield number, start, b"".join(parts), oversize
            started, start, parts, size, oversize = True, here, [], 0, False
            if not at_line_start:  # a "From " line longer than one read: skip the rest of it
                while (more := fh.readline(1 << 16)) and not more.endswith(b"\n"):
                    offset += len(more)
                offset += len(more)
                at_line_start = True
            continue
        if not started:
            started, start = True, here
        if line_start and re.match(rb"^>+From ", line):
            line = line[1:]
        size += len(line)
        if size > max_bytes:
            oversize, parts = True, []
        elif not oversize:
            parts.append(line)
    if started and (parts or oversize):
        number += 1
        yield number, start, b"".join(parts), oversize
