"""The HTTP layer: ``create_app(config)`` (``app``) with the JSON API (``api/``) and the analyst UI
(``ui/``) as its routers, the plumbing both share (who is calling, errors, the request context, page
helpers), templates and static assets (no CDN)."""
