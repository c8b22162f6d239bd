"""Render a page in headless Chromium for evidence: the DOM after scripts ran and a full-page screenshot.

Opt-in (``[evidence] render = true`` or ``vigil evidence capture --render``). Every request the page makes
goes through a route handler that resolves the host and refuses it unless every address passes the crawler's
SSRF rule (``vigil.net.guard.Guard``); refusals are recorded. Service workers are blocked (they would
bypass the handler) and so are WebSockets. A deadline bounds the whole render, a size limit each stored part.
Playwright is imported lazily: it is the optional ``render`` extra.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from vigil.config import Config
from vigil.errors import VigilError
from vigil.net.dns import DnsAnswers, lookup, make_resolver
from vigil.net.guard import Guard

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
]


class RenderError(VigilError):
    """Rendering could not run at all (no Playwright, no browser)."""


DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_BYTES = 16 * 1024**2


@dataclass(frozen=True, slots=True)
class RenderSettings:
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_bytes: int = DEFAULT_MAX_BYTES
    width: int = 1280
    height: int = 900

    @classmethod
    def from_config(cls, config: Config) -> RenderSettings:
        section = config.extra.get("evidence") or {}
        if not isinstance(section, dict):
            raise VigilError("config [evidence] must be a table")
        try:
            return cls(
                timeout_s=float(section.get("render_timeout", DEFAULT_TIMEOUT_S)),
                max_bytes=int(section.get("render_max_bytes", DEFAULT_MAX_BYTES)),
            )
        except (TypeError, ValueError) as exc:
            raise VigilError(f"config [evidence] render_timeout/render_max_bytes: {exc}") from exc


def render_enabled(config: Config) -> bool:
    section = config.extra.get("evidence") or {}
    return isinstance(section, dict) and section.get("render") is True


@dataclass(slots=True)
class Rendered:
    dom: bytes = b""
    screenshot: bytes = b""
    refused: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def details(self) -> dict[str, Any]:
        return {"refused": self.refused, "errors": self.errors}


class _RouteGuard:
    """Decides, per request URL, whether the page may contact it; caches DNS answers per host."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.rule = Guard.from_config(config)
        self.resolver = make_resolver(config)
        self.answers: dict[str, DnsAnswers] = {}

    def reason(self, url: str) -> str | None:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"scheme {parts.scheme!r} is not fetched"
        host = parts.hostname
        if host not in self.answers:
            self.answers[host] = lookup(host, self.config, self.resolver)
        addresses = self.answers[host].addresses
        if not addresses:
            return "host does not resolve"
        for address in addresses:
            why = self.rule.refusal(address)
            if why:
                return f"refusing {why} (set allow_private_addresses to allow)"
        return None


def render_page(config: Config, url: str, settings: RenderSettings | None = None) -> Rendered:
    """Load ``url`` in Chromium; what could be rendered within the deadline and size limit is returned."""
    settings = settings or RenderSettings.from_config(config)
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise RenderError("rendering needs Playwright: pip install 'vigil[render]'") from exc
    guard = _RouteGuard(config)
    out = Rendered()
    deadline = time.monotonic() + settings.timeout_s

    def left_ms() -> float:
        return max(1.0, (deadline - time.monotonic()) * 1000)

    def on_route(route: Any) -> None:
        request_url = route.request.url
        why = guard.reason(request_url)
        if why is None:
            route.continue_()
            return
        out.refused.append({"url": request_url, "reason": why})
        route.abort("blockedbyclient")

    def on_socket(ws: Any) -> None:
        out.refused.append({"url": ws.url, "reason": "WebSockets are not opened during capture"})
        ws.close()

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(
                    viewport={"width": settings.width, "height": settings.height},
                    service_workers="block",
                    user_agent=config.user_agent,
                    accept_downloads=False,
                )
                context.route("**/*", on_route)
                context.route_web_socket("**/*", on_socket)
                page = context.new_page()
                try:
                    page.goto(url, wait_until="load", timeout=left_ms())
                    _settle(page, left_ms, PlaywrightError)
                    _take(page, out, settings, left_ms)
                except PlaywrightError as exc:
                    out.errors.append(_short(exc, settings))
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise RenderError(f"cannot run Chromium at {CHROMIUM}: {_short(exc, settings)}") from exc
    return out


def _settle(page: Any, left_ms: Any, error: type[Exception]) -> None:
    """Give late scripts a moment (network idle, at most 2 s) without failing the render."""
    with contextlib.suppress(error):
        page.wait_for_load_state("networkidle", timeout=min(2000.0, left_ms()))


def _take(page: Any, out: Rendered, settings: RenderSettings, left_ms: Any) -> None:
    dom = page.content().encode("utf-8")
    if len(dom) > settings.max_bytes:
        out.errors.append(f"rendered DOM of {len(dom)} bytes is over the {settings.max_bytes}-byte limit")
    else:
        out.dom = dom
    shot = page.screenshot(full_page=True, type="png", timeout=left_ms())
    if len(shot) > settings.max_bytes:
        out.errors.append(f"screenshot of {len(shot)} bytes is over the {settings.max_bytes}-byte limit")
    else:
        out.screenshot = shot


def _short(exc: Exception, settings: RenderSettings) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "Timeout" in type(exc).__name__ or "Timeout" in first:
        return f"timed out after {settings.timeout_s:g} s: {first}"
    return first
