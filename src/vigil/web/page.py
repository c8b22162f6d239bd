"""What every page shares: rendering a template with the menu and the caller, the redirect to log in,
the refusal page, and ``page_access``, the dependency by which a page declares (and checks) who may see
it. Public, so that every page module (``vigil.web.ui``) and the network page use the same ones."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from vigil.web.auth import Access, Principal, optional_principal, refusal
from vigil.web.context import AppContext
from vigil.web.errors import ApiError
from vigil.workflow.roles import Permission, can


def render(
    request: Request, ctx: AppContext, who: Principal | None, name: str, status: int = 200, **values: Any
) -> HTMLResponse:
    return ctx.templates.TemplateResponse(
        request,
        name,
        {"who": who, "nav": ctx.nav, "can": can, "Permission": Permission, **values},
        status_code=status,
    )


def login_redirect() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


def forbidden(request: Request, ctx: AppContext, who: Principal, why: str) -> HTMLResponse:
    return render(request, ctx, who, "error.html", 403, message=why)


class LoginRequired(Exception):
    """Nobody is logged in: the page answers with the redirect to ``/login``."""


class PageRefused(Exception):
    """The caller's role may not see the page: it answers 403 with the refusal page."""

    def __init__(self, who: Principal, message: str) -> None:
        super().__init__(message)
        self.who = who
        self.message = message


class PageAccess:
    """A page's gate: a logged-in caller (a session, or a bearer token) whose role has ``permission``.
    ``twin`` names the API route ("METHOD /path") whose permission the page must equal (the route matrix
    test compares them). ``json`` pages (media fetched by scripts) answer 401/403 as JSON instead."""

    def __init__(self, permission: Permission, doing: str, twin: str = "", json: bool = False) -> None:
        self.access: Access = permission
        self.doing = doing
        self.twin = twin
        self.json = json

    async def __call__(self, who: Principal | None = Depends(optional_principal)) -> Principal:
        permission = Permission(self.access)
        if who is None:
            raise ApiError(401, "log in first") if self.json else LoginRequired()
        if not can(who.role, permission):
            message = f"{refusal(who.role, permission)}: it may not {self.doing}"
            raise ApiError(403, message) if self.json else PageRefused(who, message)
        return who


def page_access(permission: Permission, doing: str, twin: str = "", json: bool = False) -> PageAccess:
    """Use as ``who: Principal = Depends(page_access(Permission.VIEW_CASES, "view cases", twin=...))``."""
    return PageAccess(permission, doing, twin, json)


def install(app: FastAPI) -> None:
    """The answers of ``page_access``'s refusals."""

    @app.exception_handler(LoginRequired)
    async def _login(_: Request, __: LoginRequired) -> RedirectResponse:
        return login_redirect()

    @app.exception_handler(PageRefused)
    async def _refused(request: Request, exc: PageRefused) -> HTMLResponse:
        return forbidden(request, request.app.state.vigil, exc.who, exc.message)
