"""Capture a URL as evidence: fetch (every hop), WARC, main text, media, DNS answers, SHA-256 of every
part, UTC timestamps, who captured it with which software. Stored content-addressed; audited."""

from __future__ import annotations

import hashlib
import json
import mimetypes
from dataclasses import dataclass, field
from typing import Any

from vigil import __version__
from vigil.audit.history import note_in
from vigil.audit.log import append_in
from vigil.config import Config
from vigil.core.model import utcnow
from vigil.errors import UsageError
from vigil.evidence.blobs import BlobStore
from vigil.evidence.marker import marker_of
from vigil.evidence.page import is_html, main_text, media_urls, page_text
from vigil.evidence.render import Rendered, render_enabled, render_page
from vigil.evidence.tables import evidence_captures, evidence_parts
from vigil.evidence.warc import build_warc
from vigil.net.hops import FetchError, FetchResult, Hop, HopRecorder
from vigil.store import Store

SOFTWARE = f"vigil/{__version__}"


def blob_store(config: Config) -> BlobStore:
    return BlobStore(config.home / "evidence")


@dataclass(slots=True)
class Part:
    role: str
    name: str
    sha256: str
    size: int
    mime: str = ""
    url: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "name": self.name,
            "sha256": self.sha256,
            "size": self.size,
            "mime": self.mime,
            "url": self.url,
        }


@dataclass(slots=True)
class Capture:
    id: int
    url: str
    final_url: str
    status_code: int
    captured_at: str
    captured_by: str
    software: str
    warc_sha256: str
    text_sha256: str
    content_sha256: str
    parts: list[Part] = field(default_factory=list)
    media_errors: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "final_url": self.final_url,
            "status_code": self.status_code,
            "captured_at": self.captured_at,
            "captured_by": self.captured_by,
            "software": self.software,
            "warc_sha256": self.warc_sha256,
            "text_sha256": self.text_sha256,
            "content_sha256": self.content_sha256,
            "parts": [p.to_dict() for p in self.parts],
            "media_errors": self.media_errors,
        }


def _media_name(hop: Hop, digest: str) -> str:
    mime = hop.header("content-type").split(";")[0].strip()
    ext = mimetypes.guess_extension(mime) or ""
    return f"media/{digest}{ext}"


def _fetch_media(fetcher: HopRecorder, urls: list[str]) -> tuple[list[Hop], list[dict[str, str]]]:
    hops: list[Hop] = []
    errors: list[dict[str, str]] = []
    for url in urls:
        try:
            result = fetcher.fetch(url)
        except FetchError as exc:
            errors.append({"url": url, "reason": exc.reason})
            continue
        final = result.final
        if final.status >= 400 or final.truncated:
            reason = "truncated at the size limit" if final.truncated else f"HTTP {final.status}"
            errors.append({"url": url, "reason": reason})
        hops.extend(result.hops)
    return hops, errors


def _rendered_parts(blobs: BlobStore, rendered: Rendered, url: str) -> list[Part]:
    parts = []
    if rendered.dom:
        dom = rendered.dom
        parts.append(Part("rendered_dom", "rendered.html", blobs.put(dom), len(dom), "text/html", url))
    if rendered.screenshot:
        png = rendered.screenshot
        parts.append(Part("screenshot", "screenshot.png", blobs.put(png), len(png), "image/png", url))
    return parts


def capture_url(
    store: Store,
    config: Config,
    url: str,
    case_id: int | None = None,
    actor: str = "system",
    max_media: int = 20,
    render: bool | None = None,
) -> Capture:
    """Fetch ``url`` and everything it embeds, store it and return what was stored. With ``render`` (default:
    config ``[evidence] render``) the page is also loaded in headless Chromium and its rendered DOM and
    full-page screenshot are stored as parts."""
    if case_id is not None and store.get_case(case_id) is None:
        raise UsageError(f"case {case_id} does not exist")
    blobs = blob_store(config)
    with HopRecorder(config) as fetcher:
        result: FetchResult = fetcher.fetch(url)
        final = result.final
        html = page_text(final, config.max_record_bytes) if is_html(final) else ""
        text = main_text(html)
        wanted = media_urls(html, final.url, max_media) if final.status < 400 else []
        media_hops, media_errors = _fetch_media(fetcher, wanted)
        dns = result.dns + [d for d in fetcher.dns_answers if d not in result.dns]
    rendered = render_page(config, url) if (render_enabled(config) if render is None else render) else None
    captured_at = utcnow()
    info = {
        "software": SOFTWARE,
        "operator": actor,
        "format": "WARC File Format 1.1",
        "isPartOf": f"case-{case_id}" if case_id else "vigil-evidence",
        "description": f"capture of {url}",
    }
    warc = build_warc("capture.warc.gz", info, result.hops, media_hops, dns, text)
    parts: list[Part] = [Part("warc", "capture.warc.gz", blobs.put(warc), len(warc), "application/warc", url)]
    text_bytes = text.encode("utf-8")
    parts.append(Part("text", "main.txt", blobs.put(text_bytes), len(text_bytes), "text/plain", final.url))
    dns_bytes = json.dumps([d.to_dict() for d in dns], indent=1, sort_keys=True).encode()
    parts.append(Part("dns", "dns.json", blobs.put(dns_bytes), len(dns_bytes), "application/json"))
    for hop in media_hops:
        if hop.status >= 300 or hop.truncated:
            continue
        digest = blobs.put(hop.body)
        if any(p.sha256 == digest and p.role == "media" for p in parts):
            continue
        mime = hop.header("content-type").split(";")[0].strip()
        parts.append(Part("media", _media_name(hop, digest), digest, len(hop.body), mime, hop.url))
    if rendered is not None:
        parts.extend(_rendered_parts(blobs, rendered, final.url))
    capture = Capture(
        id=0,
        url=url,
        final_url=final.url,
        status_code=final.status,
        captured_at=captured_at.isoformat(),
        captured_by=actor,
        software=SOFTWARE,
        warc_sha256=parts[0].sha256,
        text_sha256=parts[1].sha256,
        content_sha256=hashlib.sha256(final.body).hexdigest(),
        parts=parts,
        media_errors=media_errors,
    )
    details: dict[str, Any] = {
        "redirect_chain": [{"url": h.url, "status": h.status, "ip": h.ip} for h in result.hops],
        "media_errors": media_errors,
        "truncated": final.truncated,
        "marker": marker_of(text),
    }
    if rendered is not None:
        details["render"] = rendered.details()
    with store.write() as conn:
        capture.id = conn.execute(
            evidence_captures.insert()
            .values(
                case_id=case_id,
                url=url,
                final_url=final.url,
                status_code=final.status,
                captured_at=captured_at,
                captured_by=actor,
                software=SOFTWARE,
                warc_sha256=capture.warc_sha256,
                text_sha256=capture.text_sha256,
                content_sha256=capture.content_sha256,
                details=details,
            )
            .returning(evidence_captures.c.id)
        ).scalar_one()
        conn.execute(evidence_parts.insert(), [{"capture_id": capture.id, **p.to_dict()} for p in parts])
        append_in(
            conn,
            actor,
            "evidence.capture",
            "evidence",
            capture.id,
            {"url": url, "warc_sha256": capture.warc_sha256, "case_id": case_id},
        )
        if case_id is not None:
            note_in(
                conn,
                case_id,
                actor,
                "evidence captured",
                {"capture_id": capture.id, "url": url, "warc_sha256": capture.warc_sha256},
            )
    return capture
