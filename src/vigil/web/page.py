"""What every page shares: rendering a template with the menu and the caller, the redirect to log in,
and the refusal page. Public, so that every page module (``vigil.web.ui``) and the network page use the
same ones."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from vigil.web.auth import Principal
from vigil.web.context import AppContext
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
