"""Writers for small sample inputs in every supported format, to each format's published structure.

Used by ``vigil demo`` and by the tests; the text is always the caller's (neutral placeholders).
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5
from xml.sax.saxutils import escape

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

# ---- Telegram Desktop export ---------------------------------------------------------------------


def telegram_message(
    msg_id: int,
    text: str | list[Any],
    date: str = "2026-11-01T10:00:00",
    sender: str | None = None,
    sender_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One message as Telegram Desktop writes it (``text`` a string or a list of entities; keys in the
    exporter's order). ``sender_id`` is a peer id as the exporter writes it (``user123``,
    ``channel123``); left out, ``telegram_chat`` makes the chat itself (a channel) or a member (a group)
    the sender. A forward names its source with ``forwarded_from`` (a display name) and
    ``forwarded_from_id`` (a peer id), as ``extra``."""
    stamp = int(datetime.fromisoformat(date + "+00:00").timestamp())
    entities = [{"type": "plain", "text": text}] if isinstance(text, str) else text
    out: dict[str, Any] = {"id": msg_id, "type": "message", "date": date, "date_unixtime": str(stamp)}
    if sender_id is not None:
        out.update({"from": sender, "from_id": sender_id})
    out.update(extra)
    out.update({"text": text, "text_entities": entities})
    return out


def telegram_chat(
    name: str, chat_id: int, messages: Sequence[dict[str, Any]], kind: str = "public_channel"
) -> dict[str, Any]:
    """A chat as the exporter writes it: ``name``, ``type``, ``id`` (the bare peer id), ``messages``.
    Messages without a sender get the chat's own (a channel's posts are ``from_id: channel<id>``) or, in
    a group or personal chat, a placeholder member's (``user100000001``)."""
    own = kind in ("public_channel", "private_channel")
    filled = []
    for msg in messages:
        if "from_id" not in msg and msg.get("type") == "message":
            sender = (name, f"channel{chat_id}") if own else ("Example Member", "user100000001")
            head: dict[str, Any] = {k: msg[k] for k in ("id", "type", "date", "date_unixtime") if k in msg}
            msg = {**head, "from": sender[0], "from_id": sender[1], **msg}
        filled.append(msg)
    return {"name": name, "type": kind, "id": chat_id, "messages": filled}


def write_telegram_export(
    folder: Path, chats: Sequence[dict[str, Any]], files: dict[str, bytes] | None = None
) -> Path:
    """One chat -> a single-chat export; several -> a full-account export (``chats.list``)."""
    folder.mkdir(parents=True, exist_ok=True)
    if len(chats) == 1:
        doc: dict[str, Any] = dict(chats[0])
    else:
        doc = {
            "about": "Here is the data you requested.",
            "personal_information": {"user_id": 1, "first_name": "Placeholder"},
            "chats": {"about": "This page lists all chats from this export.", "list": list(chats)},
        }
    for rel, data in (files or {}).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    path = folder / "result.json"
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), "utf-8")
    return path


# ---- X/Twitter -----------------------------------------------------------------------------------


def tweet_v1(
    tweet_id: int,
    text: str,
    screen_name: str,
    user_id: int = 1,
    created_at: str = "Sun Nov 01 10:00:00 +0000 2026",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "created_at": created_at,
        "id": tweet_id,
        "id_str": str(tweet_id),
        "full_text": text,
        "truncated": False,
        "lang": "en",
        "user": {
            "id": user_id,
            "id_str": str(user_id),
            "name": screen_name.title(),
            "screen_name": screen_name,
        },
        "entities": {"hashtags": [], "urls": [], "user_mentions": []},
        **extra,
    }


def v2_response(
    tweets: Sequence[dict[str, Any]], users: Sequence[dict[str, Any]], media: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    includes: dict[str, Any] = {"users": list(users)}
    if media:
        includes["media"] = list(media)
    return {"data": list(tweets), "includes": includes, "meta": {"result_count": len(tweets)}}


# ---- feeds ---------------------------------------------------------------------------------------


def rss(title: str, link: str, items: Sequence[dict[str, str]]) -> str:
    """RSS 2.0; each item may have title, link, guid, description (HTML allowed), pubDate, author."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/">\n<channel>\n'
        f"<title>{escape(title)}</title><link>{escape(link)}</link><description>sample</description>\n"
    ]
    for it in items:
        parts.append("<item>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in it.items()) + "</item>\n")
    parts.append("</channel>\n</rss>\n")
    return "".join(parts)


def atom(title: str, feed_id: str, entries: Sequence[dict[str, str]]) -> str:
    """Atom 1.0; each entry may have id, title, link, updated, author, content (HTML)."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
        f"<title>{escape(title)}</title><id>{escape(feed_id)}</id><updated>2026-11-01T10:00:00Z</updated>\n"
    ]
    for e in entries:
        body = ""
        for k, v in e.items():
            if k == "link":
                body += f'<link rel="alternate" href="{escape(v)}"/>'
            elif k == "author":
                body += f"<author><name>{escape(v)}</name></author>"
            elif k == "content":
                body += f'<content type="html">{escape(v)}</content>'
            else:
                body += f"<{k}>{escape(v)}</{k}>"
        parts.append(f"<entry>{body}</entry>\n")
    parts.append("</feed>\n")
    return "".join(parts)


# ---- WARC ----------------------------------------------------------------------------------------


def warc_bytes(
    pages: Sequence[tuple[str, str]], gzip: bool = False, date: str = "2026-11-01T10:00:00Z"
) -> bytes:
    """A WARC (or per-record gzipped WARC.gz) with one warcinfo record and one response per (url, html);
    record ids derive from the URL, so writing the same pages again gives the same records."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gzip)
    writer.write_record(writer.create_warcinfo_record("sample.warc", {"software": "vigil samples"}))
    for url, html in pages:
        body = html.encode("utf-8")
        http = StatusAndHeaders(
            "200 OK",
            [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
            protocol="HTTP/1.1",
        )
        writer.write_record(
            writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=http,
                warc_headers_dict={
                    "WARC-Date": date,
                    "WARC-Record-ID": f"<urn:uuid:{uuid5(NAMESPACE_URL, url)}>",
                },
            )
        )
    return out.getvalue()


def gzip_member(data: bytes) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return comp.compress(data) + comp.flush()


# ---- e-mail --------------------------------------------------------------------------------------


def email_message(
    subject: str,
    sender: str,
    text: str | None = None,
    html: str | None = None,
    message_id: str | None = None,
    date: datetime | None = None,
    attachment: tuple[str, str, bytes] | None = None,
) -> bytes:
    """An RFC 5322 message: plain and/or HTML body, one optional attachment (name, MIME type, bytes)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "reader@example.org"
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = message_id
    if date:
        msg["Date"] = format_datetime(date)
    msg.set_content(text or "")
    if html:
        msg.add_alternative(html, subtype="html")
    if attachment:
        name, mime, data = attachment
        major, _, minor = mime.partition("/")
        msg.add_attachment(data, maintype=major, subtype=minor, filename=name)
    return msg.as_bytes()


def mbox(messages: Sequence[bytes]) -> bytes:
    out = []
    for raw in messages:
        body = b"\n".join(
            b">" + line if line.startswith(b"From ") else line
            for line in raw.replace(b"\r\n", b"\n").split(b"\n")
        )
        out.append(b"From sender@example.org Sun Nov  1 10:00:00 2026\n" + body.rstrip(b"\n") + b"\n\n")
    return b"".join(out)


# ---- images --------------------------------------------------------------------------------------


def png(width: int = 32, height: int = 24, color: tuple[int, int, int] = (40, 120, 200)) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), color)
    ImageDraw.Draw(img).rectangle((2, 2, width // 2, height // 2), fill=(250, 250, 250))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()
