"""X/Twitter: API v2 responses (``data`` + ``includes.users``/``includes.media``/``includes.tweets``) and
v1.1 tweet objects (``retweeted_status``, ``entities.urls``, ``extended_entities.media``, ``user``).

Accepted layouts: one JSON array of tweets (streamed), one response object (streamed in two passes:
``includes`` first, then ``data``), a v1.1 search result (``statuses``), or JSON Lines of any of these.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vigil.core.model import Account, Item, Origin, Quarantined, make_item_id
from vigil.sources.base import Record, Source, SourceContext, detect_bom, excerpt, iter_json_lines
from vigil.sources.jsonstream import JSON_ERRORS, TOO_LARGE, CountingReader, iter_objects
from vigil.sources.records import parse_date

PLATFORM = "twitter"
_INCLUDES = frozenset({"includes.users.item", "includes.media.item", "includes.tweets.item"})
_TWEETS = frozenset({"data", "data.item", "statuses.item", "item.data.item", "item.statuses.item"})
_V1_MARKS = (b'"id_str"', b'"screen_name"', b'"full_text"', b'"retweeted_status"')
_V2_MARKS = (b'"author_id"', b'"edit_history_tweet_ids"', b'"includes"', b'"referenced_tweets"')


@dataclass(slots=True)
class Includes:
    """The expansions of a v2 response, by id / media key."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    tweets: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, kind: str, obj: Any) -> None:
        if not isinstance(obj, dict):
            return
        if kind == "users" and obj.get("id") is not None:
            self.users[str(obj["id"])] = obj
        elif kind == "media" and obj.get("media_key") is not None:
            self.media[str(obj["media_key"])] = obj
        elif kind == "tweets" and obj.get("id") is not None:
            self.tweets[str(obj["id"])] = obj

    @classmethod
    def of(cls, response: dict[str, Any]) -> Includes:
        inc = cls()
        raw = response.get("includes")
        if isinstance(raw, dict):
            for kind in ("users", "media", "tweets"):
                for obj in _list(raw.get(kind)):
                    inc.add(kind, obj)
        return inc


class TweetError(ValueError):
    pass


class TwitterSource(Source):
    name = "twitter"

    def sniff(self, path: Path, head: bytes) -> float:
        enc, skip = detect_bom(head)
        text = head[skip:].decode(enc, "ignore").lstrip().encode()
        if not text.startswith((b"{", b"[")):
            return 0.0
        if sum(m in head for m in _V1_MARKS) >= 2 or (
            b'"data"' in head and any(m in head for m in _V2_MARKS)
        ):
            return 0.9
        if b'"statuses"' in head or sum(m in head for m in _V2_MARKS) >= 2:
            return 0.8
        compact = re.sub(rb"\s+", b"", text[:64])
        if b'"id_str"' in head and b'"created_at"' in head and (b'"text"' in head or b'"full_text"' in head):
            return 0.8  # a v1.1 tweet, also with trim_user (no screen_name)
        if compact.startswith((b'{"data":[{', b'{"data":{')) and b'"text"' in head and b'"id"' in head:
            return 0.8  # a v2 response with only the default fields (id, text)
        return 0.0

    def read(self, path: Path, ctx: SourceContext) -> Iterator[Record]:
        source = str(path)
        if path.stat().st_size > ctx.max_file_bytes:
            yield Quarantined(source, "file", f"file larger than {ctx.max_file_bytes} bytes; not read")
            return
        with path.open("rb") as fh:
            head = fh.read(4)
        enc, skip = detect_bom(head)
        layout = _layout(path, skip, ctx.max_record_bytes) if enc == "utf-8" else "lines"
        if layout == "lines":
            yield from self._read_lines(path, source, ctx)
        elif layout == "document":
            yield from self._read_small_document(path, source, ctx, skip)
        elif layout == "stream":
            yield from self._read_document(path, source, ctx, skip)

    # ---- JSON Lines: each line a tweet, a v2 response page (twarc2), a v1.1 search response --------------

    def _read_lines(self, path: Path, source: str, ctx: SourceContext) -> Iterator[Record]:
        for line in iter_json_lines(path, source, ctx.max_record_bytes):
            if isinstance(line, Quarantined):
                yield line
                continue
            yield from self._value(line.value, source, line.location)

    def _value(self, obj: Any, source: str, where: str) -> Iterator[Record]:
        """One JSON value: a v2 response (``data``), a v1.1 search response (``statuses``), an array of
        tweets, or one tweet."""
        if _is_response(obj) and "data" in obj:
            inc = Includes.of(obj)
            data = obj["data"]
            tweets = data if isinstance(data, list) else [data]
            for n, tweet in enumerate(tweets):
                yield self._convert(tweet, inc, source, _at(where, f"data[{n}]"))
        elif isinstance(obj, dict) and isinstance(obj.get("statuses"), list):
            for n, tweet in enumerate(obj["statuses"]):
                yield self._convert(tweet, Includes(), source, _at(where, f"statuses[{n}]"))
        elif isinstance(obj, list):
            for n, value in enumerate(obj):
                if _is_response(value):
                    yield from self._value(value, source, _at(where, f"item[{n}]"))
                else:
                    yield self._convert(value, Includes(), source, _at(where, f"item[{n}]"))
        else:
            yield self._convert(obj, Includes(), source, where or "document")

    # ---- one JSON document, small enough to load whole (a pretty-printed tweet or response) ------------

    def _read_small_document(
        self, path: Path, source: str, ctx: SourceContext, skip: int
    ) -> Iterator[Record]:
        with path.open("rb") as fh:
            fh.seek(skip)
            raw = fh.read()
        try:
            value = json.loads(raw)
        except ValueError:  # truncated or broken: streaming keeps what comes before the break
            yield from self._read_document(path, source, ctx, skip)
            return
        yield from self._value(value, source, "")

    # ---- one large JSON document: an array of tweets, a v2 response, or a v1.1 search result -----------

    def _read_document(self, path: Path, source: str, ctx: SourceContext, skip: int) -> Iterator[Record]:
        inc = Includes()
        with path.open("rb") as fh:
            fh.seek(skip)
            counter = CountingReader(fh)
            try:
                for prefix, obj in iter_objects(counter, _INCLUDES, ctx.max_record_bytes):
                    inc.add(prefix.split(".")[1], obj)
            except JSON_ERRORS:
                pass  # reported by the second pass, which reads the same bytes
        with path.open("rb") as fh:
            fh.seek(skip)
            counter = CountingReader(fh)
            n = 0
            try:
                for prefix, obj in iter_objects(counter, _TWEETS | {"item"}, ctx.max_record_bytes):
                    where = f"{prefix.replace('.item', '')}[{n}]" if prefix != "data" else "data"
                    n += 1
                    if obj is TOO_LARGE:
                        yield Quarantined(
                            source, where, f"tweet longer than {ctx.max_record_bytes} characters"
                        )
                    else:
                        yield self._convert(obj, inc, source, where)
            except JSON_ERRORS as exc:
                yield Quarantined(
                    source,
                    f"byte {counter.offset} after {n} tweets",
                    f"truncated or invalid JSON: {str(exc)[:200]}; the rest of the file is unread",
                )

    # ---- one tweet ----------------------------------------------------------------------------------

    def _convert(self, obj: Any, inc: Includes, source: str, where: str) -> Record:
        try:
            if not isinstance(obj, dict):
                raise TweetError(f"expected a tweet object, found {type(obj).__name__}")
            v1 = "user" in obj or "id_str" in obj or "full_text" in obj
            item = _from_v1(obj) if v1 else _from_v2(obj, inc)
        except TweetError as exc:
            return Quarantined(source, where, str(exc), excerpt(json.dumps(obj, default=str)[:200]))
        item.origin = Origin(source, where, self.name)
        return item


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _at(where: str, part: str) -> str:
    return f"{where} {part}" if where else part


def _is_response(obj: Any) -> bool:
    """A response around tweets (v2 ``data``, v1.1 ``statuses``), not a tweet with such a field."""
    if not isinstance(obj, dict) or not ("data" in obj or isinstance(obj.get("statuses"), list)):
        return False
    return not ("text" in obj or "full_text" in obj or "id_str" in obj)


def _layout(path: Path, skip: int, max_bytes: int) -> str:
    """How the file holds its JSON: ``lines`` (JSON Lines: the first line is a whole value, however long,
    as in twarc2's output of 100-400 KB pages), ``document`` (one value that fits ``max_bytes``: loaded
    whole), ``stream`` (one larger value: streamed) or ``empty``."""
    with path.open("rb") as fh:
        fh.seek(skip)
        while True:
            line = fh.readline(max_bytes + 1)
            if not line:
                return "empty"
            if line.strip():
                break
        if len(line) > max_bytes and not line.endswith(b"\n"):
            return "stream"
        try:
            json.loads(line)
        except ValueError:
            return "document" if path.stat().st_size - skip <= max_bytes else "stream"
        return "lines"


def _tweet_id(obj: dict[str, Any]) -> str:
    native = obj.get("id_str") or obj.get("id")
    if isinstance(native, bool) or not isinstance(native, str | int) or native == "":
        raise TweetError("tweet has no id")
    return str(native)


def _url(handle: str | None, native: str) -> str:
    return (
        f"https://twitter.com/{handle}/status/{native}" if handle else f"https://x.com/i/web/status/{native}"
    )


def _str(value: Any) -> str | None:
    return (
        str(value) if isinstance(value, str | int) and not isinstance(value, bool) and value != "" else None
    )


def _from_v1(obj: dict[str, Any]) -> Item:
    native = _tweet_id(obj)
    ext = _dict(obj.get("extended_tweet"))
    text = ext.get("full_text") or obj.get("full_text") or obj.get("text")
    if not isinstance(text, str):
        raise TweetError("tweet has no text")
    text = html.unescape(text)  # the API escapes &, < and > in tweet text
    user = _dict(obj.get("user"))
    handle = _str(user.get("screen_name"))
    account = (
        Account(PLATFORM, _str(user.get("id_str") or user.get("id")), handle, _str(user.get("name")))
        if user
        else None
    )
    meta: dict[str, Any] = {}
    forwarded = None
    rt = obj.get("retweeted_status")
    if isinstance(rt, dict):
        original = _from_v1(rt)
        meta["retweet_of"] = original.native_id
        forwarded = original.account.handle if original.account else None
        text = original.text  # the retweet's own text is truncated ("RT @x: ..."); keep the original
    quoted = obj.get("quoted_status")
    if isinstance(quoted, dict) or obj.get("quoted_status_id_str"):
        meta["quote_of"] = _str(obj.get("quoted_status_id_str")) or (
            _str(quoted.get("id_str") or quoted.get("id")) if isinstance(quoted, dict) else None
        )
    entities = _dict(ext.get("entities") or obj.get("entities"))
    links = [
        u["expanded_url"]
        for u in _list(entities.get("urls"))
        if isinstance(u, dict) and isinstance(u.get("expanded_url"), str)
    ]
    extended = _dict(ext.get("extended_entities") or obj.get("extended_entities"))
    media = []
    for m in _list(extended.get("media")):
        if isinstance(m, dict) and isinstance(m.get("media_url_https") or m.get("media_url"), str):
            entry = {
                "type": _str(m.get("type")) or "photo",
                "url": m.get("media_url_https") or m["media_url"],
            }
            variants = (
                (m.get("video_info") or {}).get("variants") if isinstance(m.get("video_info"), dict) else None
            )
            if isinstance(variants, list):
                entry["variants"] = [v["url"] for v in variants if isinstance(v, dict) and "url" in v]
            media.append(entry)
    if media:
        meta["media"] = media
    for key in ("source", "retweet_count", "favorite_count"):
        if isinstance(obj.get(key), str | int) and not isinstance(obj.get(key), bool):
            meta[key] = obj[key]
    return Item(
        id=make_item_id(PLATFORM, native),
        source=PLATFORM,
        text=text,
        native_id=native,
        url=_url(handle, native),
        account=account,
        published=parse_date(obj.get("created_at")),
        lang=_str(obj.get("lang")),
        links=links,
        reply_to=_str(obj.get("in_reply_to_status_id_str") or obj.get("in_reply_to_status_id")),
        forwarded_from=forwarded,
        meta=meta,
    )


def _from_v2(obj: dict[str, Any], inc: Includes) -> Item:
    native = _tweet_id(obj)
    note = _dict(obj.get("note_tweet"))
    text = note.get("text") or obj.get("text")
    if not isinstance(text, str):
        raise TweetError("tweet has no text")
    text = html.unescape(text)  # the API escapes &, < and > in tweet text
    author_id = _str(obj.get("author_id"))
    user = inc.users.get(author_id or "", {}) or _dict(obj.get("author"))  # twarc2 flatten: ``author``
    handle = _str(user.get("username"))
    account = Account(PLATFORM, author_id, handle, _str(user.get("name"))) if author_id else None
    meta: dict[str, Any] = {}
    reply_to = forwarded = None
    refs = obj.get("referenced_tweets")
    for ref in refs if isinstance(refs, list) else []:
        if not isinstance(ref, dict) or _str(ref.get("id")) is None:
            continue
        ref_id = str(ref["id"])
        kind = ref.get("type")
        if kind == "replied_to":
            reply_to = ref_id
        elif kind in ("retweeted", "quoted"):
            meta["retweet_of" if kind == "retweeted" else "quote_of"] = ref_id
            original = inc.tweets.get(ref_id)
            if kind == "retweeted" and original:
                ref_user = inc.users.get(str(original.get("author_id")), {})
                forwarded = _str(ref_user.get("username")) or _str(original.get("author_id"))
                if isinstance(original.get("text"), str):
                    text = original["text"]
    entities = _dict(obj.get("entities"))
    links = [
        u.get("unwound_url") or u["expanded_url"]
        for u in _list(entities.get("urls"))
        if isinstance(u, dict) and isinstance(u.get("expanded_url"), str)
    ]
    attachments = _dict(obj.get("attachments"))
    media = []
    for key in _list(attachments.get("media_keys")):
        m = inc.media.get(str(key))
        if m:
            url = m.get("url") or m.get("preview_image_url")
            media.append({"type": _str(m.get("type")) or "photo", "url": url, "media_key": str(key)})
    if media:
        meta["media"] = media
    if isinstance(obj.get("conversation_id"), str):
        meta["conversation_id"] = obj["conversation_id"]
    return Item(
        id=make_item_id(PLATFORM, native),
        source=PLATFORM,
        text=text,
        native_id=native,
        url=_url(handle, native),
        account=account,
        published=parse_date(obj.get("created_at")),
        lang=_str(obj.get("lang")),
        links=links,
        reply_to=reply_to,
        forwarded_from=forwarded,
        meta=meta,
    )
