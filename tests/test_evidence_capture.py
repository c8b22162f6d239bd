"""Capture against a local web and DNS server: WARC records, redirects, DNS answers, media, custody."""

from __future__ import annotations

import hashlib
import io
import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from tests.evidence_helpers import local_config, make_case
from tests.local_servers import DnsServer, Page, WebServer, dns_server, self_signed, web_server
from vigil.audit import log as audit
from vigil.audit.history import history
from vigil.config import Config
from vigil.errors import UsageError
from vigil.evidence.capture import blob_store, capture_url
from vigil.net.hops import FetchError
from vigil.store import Store


def png_bytes(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), colour).save(out, "PNG")
    return out.getvalue()


PAGE = (
    b"<html><head><title>Placeholder</title></head><body><article><h1>A neutral heading</h1>"
    b"<p>This is a neutral placeholder paragraph used for evidence capture tests. It has enough words "
    b"for the main-text extractor to keep it as the body of the page.</p>"
    b"<p>A second placeholder paragraph, equally neutral, about nothing in particular at all.</p>"
    b'<img src="/img/one.png"></article></body></html>'
)


@pytest.fixture
def servers() -> Iterator[tuple[WebServer, DnsServer]]:
    with web_server() as web, dns_server() as dns:
        dns.zone["pages.test"] = {"A": ["127.0.0.1"]}
        web.pages["/start"] = Page(301, b"", {"Location": "/post/1"})
        web.pages["/post/1"] = Page(200, PAGE)
        web.pages["/img/one.png"] = Page(200, png_bytes((200, 40, 40)), {"Content-Type": "image/png"})
        yield web, dns


def test_capture_records_everything(
    store: Store, config: Config, servers: tuple[WebServer, DnsServer]
) -> None:
    web, dns = servers
    cfg = local_config(config, dns.address)
    url = web.url("/start", host="pages.test")
    case_id = make_case(store, url)
    cap = capture_url(store, cfg, url, case_id=case_id, actor="analyst1")
    assert cap.status_code == 200 and cap.final_url.endswith("/post/1")
    assert ("pages.test", "A") in dns.queries
    # the web server saw the original Host header although the connection went to the resolved address
    assert web.requests[0][1]["Host"] == f"pages.test:{web.port}"
    blobs = blob_store(cfg)
    for part in cap.parts:
        assert hashlib.sha256(blobs.get(part.sha256)).hexdigest() == part.sha256
    roles = sorted(p.role for p in cap.parts)
    assert roles == ["dns", "media", "text", "warc"]
    media = next(p for p in cap.parts if p.role == "media")
    assert media.sha256 == hashlib.sha256(png_bytes((200, 40, 40))).hexdigest()
    text = blobs.get(cap.text_sha256).decode()
    assert "neutral placeholder paragraph" in text
    records = list(ArchiveIterator(io.BytesIO(blobs.get(cap.warc_sha256))))
    kinds = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI")) for r in records]
    assert kinds[0][0] == "warcinfo"
    assert ("resource", "dns:pages.test") in kinds
    responses = [r for r in records if r.rec_type == "response"]
    statuses = [r.http_headers.get_statuscode() for r in responses]
    assert statuses == ["301", "200", "200"]
    assert sum(1 for r in records if r.rec_type == "request") == 3
    assert all(r.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1" for r in responses)
    events = history(store, case_id)
    assert events[-1]["reason"] == "evidence captured" and events[-1]["meta"]["capture_id"] == cap.id
    assert any(e.action == "evidence.capture" for e in audit.entries(store))
    assert audit.verify(store).ok


def test_private_addresses_refused_by_default(
    store: Store, config: Config, servers: tuple[WebServer, DnsServer]
) -> None:
    web, dns = servers
    config.extra["dns_servers"] = [dns.address]
    with pytest.raises(FetchError, match="private address"):
        capture_url(store, config, web.url("/post/1", host="pages.test"))


def test_unknown_host_and_redirect_loop(
    store: Store, config: Config, servers: tuple[WebServer, DnsServer]
) -> None:
    web, dns = servers
    cfg = local_config(config, dns.address)
    with pytest.raises(FetchError, match="does not resolve"):
        capture_url(store, cfg, web.url("/post/1", host="nowhere.test"))
    web.pages["/loop"] = Page(302, b"", {"Location": "/loop"})
    with pytest.raises(FetchError, match="redirects"):
        capture_url(store, cfg, web.url("/loop", host="pages.test"))
    with pytest.raises(FetchError, match="http"):
        capture_url(store, cfg, "file:///etc/passwd")
    before = len(web.requests)
    with pytest.raises(UsageError, match="case 999"):
        capture_url(store, cfg, web.url("/post/1", host="pages.test"), case_id=999)
    assert len(web.requests) == before, "nothing is fetched for a case that does not exist"


def test_private_address_refused_by_the_guard(
    store: Store, config: Config, servers: tuple[WebServer, DnsServer]
) -> None:
    web, dns = servers
    cfg = local_config(config, dns.address)
    cfg.allow_private_addresses = False
    url = web.url("/post/1", host="pages.test")
    with pytest.raises(FetchError, match=r"refusing private address 127\.0\.0\.1: .*loopback"):
        capture_url(store, cfg, url)
    assert web.requests == []
    cfg.allowed_networks = ("127.0.0.1/32",)
    assert capture_url(store, cfg, url).status_code == 200
    # every address of the answer is checked, not only the one connected to
    dns.zone["mixed.test"] = {"A": ["127.0.0.1", "10.0.0.1"]}
    with pytest.raises(FetchError, match=r"refusing private address 10\.0\.0\.1"):
        capture_url(store, cfg, web.url("/post/1", host="mixed.test"))
    assert all(r[1]["Host"].startswith("pages.test") for r in web.requests)


def test_internationalised_host_name(
    store: Store, config: Config, servers: tuple[WebServer, DnsServer]
) -> None:
    web, dns = servers
    dns.zone["xn--bcher-kva.test"] = {"A": ["127.0.0.1"]}
    cap = capture_url(store, local_config(config, dns.address), f"http://bücher.test:{web.port}/post/1")
    assert cap.status_code == 200
    assert web.requests[-1][1]["Host"] == f"xn--bcher-kva.test:{web.port}"
    dns_part = next(p for p in cap.parts if p.role == "dns")
    assert [d["host"] for d in json.loads(blob_store(config).get(dns_part.sha256))] == ["bücher.test"]


def test_oversized_page_is_truncated_and_marked(
    store: Store, config: Config, servers: tuple[WebServer, DnsServer]
) -> None:
    web, dns = servers
    cfg = local_config(config, dns.address)
    cfg.max_record_bytes = 1000
    web.pages["/big"] = Page(200, b"<html><body>" + b"x" * 5000 + b"</body></html>")
    cap = capture_url(store, cfg, web.url("/big", host="pages.test"))
    records = list(ArchiveIterator(io.BytesIO(blob_store(cfg).get(cap.warc_sha256))))
    response = next(r for r in records if r.rec_type == "response")
    assert response.rec_headers.get_header("WARC-Truncated") == "length"
    from vigil.evidence.tables import evidence_captures

    with store.read() as conn:
        details = conn.execute(select(evidence_captures.c.details)).scalar_one()
    assert details["truncated"] is True


def test_capture_every_confirmed_case(
    store: Store, config: Config, servers: tuple[WebServer, DnsServer]
) -> None:
    from vigil.evidence.confirmed import capture_confirmed
    from vigil.workflow.transition import transition

    web, dns = servers
    cfg = local_config(config, dns.address)
    good = make_case(store, web.url("/post/1", host="pages.test"))
    bad = make_case(store, web.url("/post/1", host="gone.test"))
    untouched = make_case(store, web.url("/post/1", host="pages.test") + "?other")
    for case_id in (good, bad):
        transition(store, case_id, "triage", "verifier1", "verifier", "first look")
        transition(store, case_id, "confirmed", "verifier1", "verifier", "confirmed")
    first = capture_confirmed(store, cfg, "system")
    assert [c["case_id"] for c in first["captured"]] == [good]
    assert [f["case_id"] for f in first["failed"]] == [bad] and "resolve" in first["failed"][0]["reason"]
    assert untouched not in [c["case_id"] for c in first["captured"]]
    assert capture_confirmed(store, cfg, "system")["captured"] == []  # once per case


def test_https_capture_pins_the_address_and_checks_the_name(
    store: Store, config: Config, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path, ("pages.test",))
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    with web_server(tls) as web, dns_server() as dns:
        dns.zone["pages.test"] = {"A": ["127.0.0.1"]}
        dns.zone["wrong-name.test"] = {"A": ["127.0.0.1"]}
        web.pages["/post/1"] = Page(200, PAGE)
        cfg = local_config(config, dns.address, ca_bundle=str(cert))
        cap = capture_url(store, cfg, web.url("/post/1", host="pages.test"))
        assert cap.status_code == 200 and cap.final_url.startswith("https://pages.test:")
        # the certificate is checked against the name in the URL, not the address connected to
        with pytest.raises(FetchError, match="fetch failed"):
            capture_url(store, cfg, web.url("/post/1", host="wrong-name.test"))
