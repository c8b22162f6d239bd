"""``vigil serve``: the API and the UI on one port."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.cli.common import err, load_config


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8000,
) -> None:
    """Serve the API (/api/v1, OpenAPI at /openapi.json) and the analyst UI (/)."""
    import uvicorn

    from vigil.web.app import create_app

    config = load_config()
    app = create_app(config)
    err.print(f"vigil: store {config.resolved_database_url}; UI at http://{host}:{port}/")
    # Proxy headers are vigil's to judge (trusted_proxies, vigil.web.transport), not uvicorn's: its
    # default would believe X-Forwarded-Proto from 127.0.0.1 whatever the configuration says.
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False, proxy_headers=False)


def register(app: typer.Typer) -> None:
    app.command()(serve)
