"""What every request handler may reach: the config, the store and the templates. It lives on
``app.state.vigil`` (one per app, so two apps in one process never share anything)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from vigil.config import Config
from vigil.store import Store
from vigil.workflow.sla_config import SlaSettings


@dataclass(slots=True)
class AppContext:
    config: Config
    store: Store
    templates: Jinja2Templates
    nav: list[tuple[str, str]] = field(default_factory=list)
    template_dirs: list[Path] = field(default_factory=list)
    max_body_bytes: int = 1 << 20
    #: The review SLAs from ``[workflow.sla]``, read (and checked) once when the app is made.
    sla: SlaSettings = field(default_factory=SlaSettings)


async def get_ctx(request: Request) -> AppContext:
    # async: cheap dependencies run on the event loop instead of costing a thread hop each
    ctx: AppContext = request.app.state.vigil
    return ctx
