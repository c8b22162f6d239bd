"""``create_app(config)``: the FastAPI app. No module-level state: each app owns its store and context.

Feature routers are plug-ins: every module named in ``FEATURE_ROUTERS`` (or in the ``routers`` argument,
or in ``routers = [...]`` in config.toml) exposes ``router`` (a FastAPI ``APIRouter``) and may expose
``NAV`` (a list of ``(label, path)`` for the UI menu) and ``TEMPLATES`` (a folder of Jinja templates).
Adding a feature's API and pages is one line in ``FEATURE_ROUTERS``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader

import vigil
from vigil.boot import open_store
from vigil.config import Config
from vigil.core.registry import load_object
from vigil.store import Store
from vigil.web import errors, page
from vigil.web.boundary import StorableInput
from vigil.web.context import AppContext
from vigil.web.transport import TrustedProxies, proxy_networks
from vigil.workflow.sla_config import SlaSettings

WEB = Path(__file__).resolve().parent

FEATURE_ROUTERS: tuple[str, ...] = (
    "vigil.web.auth",
    "vigil.web.api.cases",
    "vigil.web.api.audit",
    "vigil.web.api.admin",
    "vigil.web.ui.pages",
    "vigil.web.ui.privacy",
    "vigil.web.api.takedown",
    "vigil.web.ui.takedown",
    "vigil.web.ui.referral",
    "vigil.web.ui.replies",
    "vigil.web.api.watch",
    "vigil.web.ui.sources",
    "vigil.web.api.graph",
    "vigil.web.ui.graph",
)


def create_app(
    config: Config | None = None, store: Store | None = None, routers: Sequence[str] | None = None
) -> FastAPI:
    config = config or Config.load()
    sla = SlaSettings.from_config(config)  # a bad [workflow.sla] stops the start, naming the key
    proxies = proxy_networks(config)  # so does a bad cookie_secure or trusted_proxies
    owned = store is None
    the_store = store or open_store(config)

    @asynccontextmanager
    async def lifespan(running: FastAPI) -> AsyncIterator[None]:
        yield
        # What features started on demand (the graph's analysis process) stops with the app.
        for close in reversed(getattr(running.state, "on_close", [])):
            close()
        if owned:
            the_store.close()

    app = FastAPI(
        title="vigil",
        version=vigil.__version__,
        description="Review queue, cases, accounts and the audit log of vigil.",
        openapi_url="/openapi.json",
        docs_url=None,  # FastAPI's docs page loads its assets from a CDN; the UI must work offline
        redoc_url=None,
        lifespan=lifespan,
    )
    modules = list(routers if routers is not None else FEATURE_ROUTERS)
    modules += [str(m) for m in config.extra.get("routers", []) if str(m) not in modules]
    nav: list[tuple[str, str]] = []
    template_dirs = [WEB / "templates"]
    for name in modules:
        module = load_object(name, "routers")
        app.include_router(module.router)
        nav.extend(getattr(module, "NAV", []))
        extra = getattr(module, "TEMPLATES", None)
        if extra:
            template_dirs.append(Path(extra))
    templates = Jinja2Templates(directory=str(template_dirs[0]))
    templates.env.loader = ChoiceLoader([FileSystemLoader(str(d)) for d in template_dirs])
    app.state.vigil = AppContext(
        config=config,
        store=the_store,
        templates=templates,
        nav=nav,
        template_dirs=template_dirs,
        max_body_bytes=int(config.extra.get("max_request_bytes", 1 << 20)),
        sla=sla,
    )
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    errors.install(app)
    page.install(app)
    app.add_middleware(StorableInput)  # inside BodyLimit: the body it reads is bounded
    app.add_middleware(errors.BodyLimit, limit=app.state.vigil.max_body_bytes)
    app.add_middleware(errors.SecurityHeaders)
    app.add_middleware(TrustedProxies, networks=proxies)  # outermost: everything after sees the scheme
    return app
