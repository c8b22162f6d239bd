"""The log-in form's CSRF token (there is no session yet to tie one to): a double-submit token.

``GET /login`` makes a random token and sends it twice: in a cookie (HttpOnly, SameSite=Strict, path
``/login``, 1 hour) and in the form's hidden ``csrf`` field. ``POST /login`` goes ahead only when both
are there and equal (constant-time compare); otherwise 403 before the password is even checked. A page
on another site can make the browser post the form but cannot read the token (HttpOnly cookie, same-origin
page), so it cannot fill in the field. SameSite=Strict stays as a second line: the browser does not send
the cookie with a cross-site post at all. (A double-submit token does not hold against someone who
controls a sibling subdomain and can plant cookies; serve vigil on its own host name.)
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response

from vigil.web.transport import secure_cookies

LOGIN_CSRF_COOKIE = "vigil_login_csrf"
LOGIN_CSRF_TTL_S = 3600
REFUSED = "the log-in form lacked its security token or it did not match: reload the page and log in again"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def set_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=LOGIN_CSRF_TTL_S,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )


def clear_cookie(response: Response) -> None:
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")


def token_ok(request: Request, supplied: str) -> bool:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not supplied or len(supplied) > 200:
        return False
    return hmac.compare_digest(expected.encode("utf-8", "replace"), supplied.encode("utf-8", "replace"))
