"""The boundary refuses what the store cannot hold, with 422, before any handler runs.

A NUL byte in the log-in form, a token request, a transition's reason, a setting's value, a graph query
or a watched source's name was a 500 on PostgreSQL (SQLite stores it, so only the real server showed
it). ``StorableInput`` applies one rule (``vigil.store.storable``) to every string a request carries to
a handler: the path, every query parameter, every form field, and every string (and object name) of a
JSON body, which must also parse as JSON without NaN or infinities. The JSON API takes JSON bodies only:
a body under ``/api/`` sent as anything else is refused the same way. Headers are not stored (bearer
tokens and cookies are hashed before they are looked up), so they are left to the server.

The answer names where the bad input is, never the input itself.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigil.store.storable import unstorable, unstorable_in
from vigil.web.errors import error_response

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Refused(Exception):
    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where}: {why}")
        self.where = where
        self.why = why


def _no_constants(name: str) -> Any:
    raise Refused("body", f"{name} is not a JSON number")


def check_pairs(pairs: list[tuple[str, str]], where: str) -> None:
    for name, value in pairs:
        for text in (name, value):
            why = unstorable(text)
            if why:
                raise Refused(f"{where} {name[:40]!a}", why)


def check_body(content_type: str, body: bytes, api: bool) -> None:
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        try:
            value = json.loads(body, parse_constant=_no_constants)
        except Refused:
            raise
        except (ValueError, RecursionError):
            raise Refused("body", "not valid JSON") from None
        found = unstorable_in(value, "body")
        if found:
            raise Refused(*found)
    elif kind == "application/x-www-form-urlencoded":
        text = body.decode("utf-8", "replace")
        check_pairs(parse_qsl(text, keep_blank_values=True), "form field")
    elif api:
        raise Refused("body", "the API takes JSON bodies (Content-Type: application/json)")


class StorableInput:
    """ASGI middleware: 422 for a request carrying what the store cannot hold (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            why = unstorable(scope.get("path", ""))
            if why:
                raise Refused("path", why)
            query = scope.get("query_string", b"").decode("latin-1")
            check_pairs(parse_qsl(query, keep_blank_values=True), "query parameter")
            if "\x00" in unquote(query):
                raise Refused("query", "NUL characters cannot be stored")
        except Refused as exc:
            await self._refuse(exc, scope, receive, send)
            return
        if scope.get("method") not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:  # the body is bounded by BodyLimit, which runs before this
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            more = bool(message.get("more_body"))
        body = b"".join(chunks)
        headers = dict(scope.get("headers", []))
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        try:
            if body:
                check_body(content_type, body, scope.get("path", "").startswith("/api/"))
        except Refused as exc:
            await self._refuse(exc, scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, exc: Refused, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            422, "the request is not valid", errors=[{"loc": [exc.where], "msg": exc.why}]
        )
        await response(scope, receive, send)
