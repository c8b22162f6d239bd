"""Rendered capture in headless Chromium: DOM after scripts, screenshot, SSRF refusals, deadline."""

from __future__ import annotations

import hashlib
import io
import json
import sys
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from tests.evidence_helpers import make_case, run_cli, write_local_config
from tests.local_servers import Page, web_server
from tests.test_evidence_bundle import _flip_byte_in_member
from vigil.config import Config
from vigil.errors import VigilError
from vigil.evidence.bundle import export_bundle, verify_bundle
from vigil.evidence.capture import blob_store, capture_url
from vigil.evidence.render import RenderError, RenderSettings, render_enabled, render_page
from vigil.evidence.tables import evidence_captures
from vigil.store import Store

pytestmark = pytest.mark.browser

JS_PAGE = (
    b"<html><head><title>Shell</title></head><body><main id='out'></main><script>"
    b"document.getElementById('out').textContent = ['neutral', 'placeholder', 'written', 'by', 'script']"
    b".join(' ');"
    b"</script></body></html>"
)
PRIVATE_PAGE = (
    b"<html><body><p id='out'>waiting</p><script>"
    b"fetch('http://169.254.169.254/latest/meta-data/')"
    b".then(() => { document.getElementById('out').textContent = 'reached'; })"
    b".catch(() => { document.getElementById('out').textContent = 'refused'; });"
    b"</script></body></html>"
)
ENDLESS_PAGE = b"<html><body><p>placeholder</p><script>while (true) {}</script></body></html>"


def _local(config: Config) -> Config:
    """Like the crawler tests: private addresses stay refused, only the test server's 127.0.0.1 is allowed."""
    config.allow_private_addresses = False
    config.allowed_networks = ("127.0.0.1/32",)
    config.http_timeout = 5.0
    return config


def test_rendered_capture_keeps_dom_and_screenshot(tmp_path: Path, store: Store, config: Config) -> None:
    cfg = _local(config)
    with web_server() as web:
        web.pages["/js"] = Page(200, JS_PAGE)
        url = web.url("/js")
        case_id = make_case(store, url)
        cap = capture_url(store, cfg, url, case_id=case_id, actor="analyst1", render=True)
    blobs = blob_store(cfg)
    text = blobs.get(cap.text_sha256).decode()
    assert "written by script" not in text  # the plain HTTP capture only has the empty shell
    parts = {p.role: p for p in cap.parts}
    assert {"rendered_dom", "screenshot"} <= set(parts)
    dom = blobs.get(parts["rendered_dom"].sha256)
    assert b"neutral placeholder written by script" in dom
    png = blobs.get(parts["screenshot"].sha256)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and parts["screenshot"].size == len(png) > 0
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.size[0] > 0 and image.size[1] > 0
    for part in cap.parts:
        assert hashlib.sha256(blobs.get(part.sha256)).hexdigest() == part.sha256
    with store.read() as conn:
        details = conn.execute(
            select(evidence_captures.c.details).where(evidence_captures.c.id == cap.id)
        ).scalar_one()
    assert details["render"] == {"refused": [], "errors": []}
    bundle = tmp_path / "case.zip"
    export_bundle(store, cfg, case_id, bundle, actor="analyst1")
    shot_name = f"captures/{cap.id}/screenshot.png"
    with zipfile.ZipFile(bundle) as zf:
        assert zf.read(shot_name) == png
        assert zf.read(f"captures/{cap.id}/rendered.html") == dom
    assert verify_bundle(bundle, cfg).ok
    _flip_byte_in_member(bundle, shot_name)
    report = verify_bundle(bundle, cfg)
    assert not report.ok and report.file == shot_name


def test_script_request_to_private_address_is_refused_and_recorded(store: Store, config: Config) -> None:
    cfg = _local(config)
    with web_server() as web:
        web.pages["/p"] = Page(200, PRIVATE_PAGE)
        url = web.url("/p")
        cap = capture_url(store, cfg, url, render=True)
    with store.read() as conn:
        details = conn.execute(
            select(evidence_captures.c.details).where(evidence_captures.c.id == cap.id)
        ).scalar_one()
    refused = details["render"]["refused"]
    assert [r["url"] for r in refused] == ["http://169.254.169.254/latest/meta-data/"]
    assert "169.254.169.254 is a link-local address" in refused[0]["reason"]
    dom = blob_store(cfg).get(next(p.sha256 for p in cap.parts if p.role == "rendered_dom"))
    assert b">refused<" in dom


def test_page_that_never_finishes_hits_the_deadline(config: Config) -> None:
    cfg = _local(config)
    with web_server() as web:
        web.pages["/endless"] = Page(200, ENDLESS_PAGE)
        started = time.monotonic()
        out = render_page(cfg, web.url("/endless"), RenderSettings(timeout_s=3))
        took = time.monotonic() - started
    assert out.dom == b"" and out.screenshot == b""
    assert len(out.errors) == 1 and out.errors[0].startswith("timed out after 3 s")
    assert took < 30


def test_size_limit_drops_oversized_parts(config: Config) -> None:
    cfg = _local(config)
    with web_server() as web:
        web.pages["/js"] = Page(200, JS_PAGE)
        out = render_page(cfg, web.url("/js"), RenderSettings(timeout_s=20, max_bytes=64))
    assert out.dom == b"" and out.screenshot == b""
    assert any("rendered DOM" in e for e in out.errors) and any("screenshot" in e for e in out.errors)


def test_render_settings_come_from_config_and_bad_values_are_named(config: Config) -> None:
    assert not render_enabled(config)
    config.extra["evidence"] = {"render": True, "render_timeout": 7, "render_max_bytes": 1000}
    assert render_enabled(config)
    assert RenderSettings.from_config(config) == RenderSettings(timeout_s=7.0, max_bytes=1000)
    config.extra["evidence"] = {"render_timeout": "soon"}
    with pytest.raises(VigilError, match="render_timeout"):
        RenderSettings.from_config(config)
    config.extra["evidence"] = "yes"
    with pytest.raises(VigilError, match=r"\[evidence\] must be a table"):
        RenderSettings.from_config(config)


def test_missing_playwright_is_a_clear_error(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)
    with pytest.raises(RenderError, match=r"pip install 'vigil\[render\]'"):
        render_page(config, "http://127.0.0.1:9/")


def test_cli_render_flag_adds_the_rendered_parts(home: Path, config: Config) -> None:
    with web_server() as web:
        web.pages["/js"] = Page(200, JS_PAGE)
        write_local_config(home, "127.0.0.1:9")
        url = web.url("/js")
        plain = run_cli(["evidence", "capture", url], home)
        rendered = run_cli(["evidence", "capture", url, "--render"], home)
    assert plain.returncode == 0 and rendered.returncode == 0, plain.stderr + rendered.stderr
    assert {p["role"] for p in json.loads(plain.stdout)["parts"]} == {"warc", "text", "dns"}
    roles = {p["role"] for p in json.loads(rendered.stdout)["parts"]}
    assert {"rendered_dom", "screenshot"} <= roles
