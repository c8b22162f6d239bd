"""The analyst UI: server-rendered pages, templates and static assets (no CDN)."""
