"""The HTTP API (``/api/v1``) and the web UI, built by ``create_app(config)``."""

from vigil.api.app import FEATURE_ROUTERS, create_app

__all__ = ["FEATURE_ROUTERS", "create_app"]
