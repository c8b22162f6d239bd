"""Who is calling: a bearer token (API) or a session cookie (UI, with a CSRF token on every change).

``require(permission)`` is the dependency routes use; it answers 401 without valid credentials and 403
when the caller's role lacks the permission, both as JSON with a reason.

Every route declares who may call it, where a test can read it: each of these dependencies carries an
``access`` (a ``Permission``, ``LOGGED_IN`` or ``PUBLIC``), and ``declared_access(route)`` finds it in the
route's dependency tree. ``tests/test_web_access.py`` calls every route of the app as every role and
checks each answer against that declaration, so a route without one fails. Pages declare theirs with
``vigil.web.page.page_access``.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from vigil.audit import log as audit
from vigil.web.context import AppContext, get_ctx
from vigil.web.errors import ApiError
from vigil.web.transport import secure_cookies
from vigil.workflow import accounts
from vigil.workflow.accounts import User
from vigil.workflow.errors import AuthError
from vigil.workflow.roles import Permission, can

SESSION_COOKIE = "vigil_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: A route anyone may call (log-in, log-out).
PUBLIC = "public"
#: A route any logged-in user may call, whatever the role.
LOGGED_IN = "logged in"
Access = Permission | str


@dataclass(slots=True, frozen=True)
class Principal:
    user: User
    via: str  # "bearer" | "session"
    csrf: str = ""

    @property
    def name(self) -> str:
        return self.user.username

    @property
    def role(self) -> str:
        return self.user.role


def _unauthorized(reason: str) -> ApiError:
    return ApiError(401, reason, {"WWW-Authenticate": "Bearer"})


async def optional_principal(request: Request, ctx: AppContext = Depends(get_ctx)) -> Principal | None:
    # async on purpose: one primary-key lookup is cheaper on the event loop than a thread hop, which
    # under load costs more than the query itself (bench/api.py).
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise _unauthorized("the Authorization header must be 'Bearer <token>'")
        found = accounts.resolve_token(ctx.store, value.strip(), "api")
        if found is None:
            raise _unauthorized("the bearer token is unknown or expired")
        return Principal(found[0], "bearer")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        session = accounts.resolve_token(ctx.store, cookie, "session")
        if session is not None:
            return Principal(session[0], "session", session[1])
    return None


def csrf_ok(principal: Principal, supplied: str | None) -> bool:
    return bool(supplied) and hmac.compare_digest(principal.csrf, supplied or "")


LOG_IN_FIRST = "log in first: send 'Authorization: Bearer <token>' (POST /api/v1/auth/token)"


class Authenticated:
    """The caller (401 without credentials; a session's change needs its CSRF token, else 403)."""

    access: Access = LOGGED_IN

    async def __call__(
        self, request: Request, found: Principal | None = Depends(optional_principal)
    ) -> Principal:
        if found is None:
            raise _unauthorized(LOG_IN_FIRST)
        needs_csrf = found.via == "session" and request.method not in SAFE_METHODS
        if needs_csrf and not csrf_ok(found, request.headers.get(CSRF_HEADER)):
            raise ApiError(403, "missing or wrong CSRF token (send the X-CSRF-Token header)")
        return found


principal = Authenticated()


class Require:
    """The caller, whose role must have ``permission`` (403 otherwise)."""

    def __init__(self, permission: Permission) -> None:
        self.access: Access = permission

    async def __call__(self, who: Principal = Depends(principal)) -> Principal:
        if not can(who.role, Permission(self.access)):
            raise ApiError(403, refusal(who.role, Permission(self.access)))
        return who


def require(permission: Permission) -> Require:
    return Require(permission)


def refusal(role: str, permission: Permission) -> str:
    """What every refusal of a role says, API and pages alike (the route matrix test looks for it)."""
    return f"role {role!r} lacks the permission {permission.value!r}"


class Public:
    """Declares a route open to anyone (it checks whatever it needs itself)."""

    access: Access = PUBLIC

    async def __call__(self) -> None:
        return None


public = Public()


def declared_access(dependant: Any) -> tuple[Access, ...]:
    """Every access declared in a route's dependency tree (``route.dependant``), strictest first: the
    permissions, then ``LOGGED_IN``, then ``PUBLIC``."""
    found: set[Access] = set()
    stack = [dependant]
    while stack:
        current = stack.pop()
        access = getattr(current.call, "access", None)
        if access is not None:
            found.add(access)
        stack.extend(current.dependencies)
    rank = {PUBLIC: 2, LOGGED_IN: 1}
    return tuple(sorted(found, key=lambda a: (rank.get(str(a), 0), str(a))))


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    role: str


class Me(BaseModel):
    username: str
    role: str
    via: str


router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post(
    "/token",
    response_model=TokenResponse,
    responses={401: {"description": "bad credentials"}},
    dependencies=[Depends(public)],
)
def create_token(body: TokenRequest, ctx: AppContext = Depends(get_ctx)) -> TokenResponse:
    """Exchange a user name and password for a bearer token."""
    try:
        user = accounts.authenticate(ctx.store, body.username, body.password, via="api")
    except AuthError as exc:
        raise _unauthorized(str(exc)) from None
    token = accounts.issue_token(ctx.store, user, "api")
    return TokenResponse(access_token=token.value, expires_at=token.expires_at, role=user.role)


@router.get("/me", response_model=Me)
def me(who: Principal = Depends(principal)) -> Me:
    return Me(username=who.name, role=who.role, via=who.via)


@router.delete("/token", status_code=204, response_class=Response)
def revoke(
    request: Request, who: Principal = Depends(principal), ctx: AppContext = Depends(get_ctx)
) -> Response:
    """Revoke the credential used for this request: the bearer token, or the session (whose cookie then
    goes too; a session needs its X-CSRF-Token for this, as for any change)."""
    response = Response(status_code=204)
    if who.via == "bearer":
        accounts.revoke_token(ctx.store, request.headers.get("authorization", "").partition(" ")[2].strip())
    else:
        accounts.revoke_token(ctx.store, request.cookies.get(SESSION_COOKIE, ""))
        audit.append(ctx.store, who.name, "auth.logout", "user", who.name, {"via": "api"})
        secure = secure_cookies(request)
        response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict", secure=secure)
    return response
