"""Evidence capture and re-checks verify HTTPS against the typed ``ca_bundle`` setting: a local server with a
certificate from a CA the test makes is captured and re-checked with ``ca_bundle`` naming that CA, and
refused with a certificate error without it (the re-check records the error). SQLite and PostgreSQL."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.evidence_helpers import approve, decided_case, local_config
from tests.local_servers import DnsServer, Page, WebServer, dns_server, web_server
from tests.test_crawl_tls import make_certs
from tests.test_evidence_capture import PAGE
from tests.test_referral_documents import RECIPIENT, authority
from vigil.config import Config
from vigil.evidence.capture import capture_url
from vigil.net.hops import FetchError, HopRecorder
from vigil.referral.delivery import clear_to_send, record_delivery
from vigil.referral.documents import create_document
from vigil.referral.recheck import run_rechecks
from vigil.referral.tables import recheck_results
from vigil.store import Store


@pytest.fixture
def https_site(tmp_path: Path) -> Iterator[tuple[WebServer, DnsServer, Path]]:
    """(web server, DNS server, the CA's PEM file): pages.test over HTTPS, signed by a CA of the test's."""
    ca, cert, key = make_certs(tmp_path, "pages.test")
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    with web_server(tls) as web, dns_server() as dns:
        dns.zone["pages.test"] = {"A": ["127.0.0.1"]}
        web.pages["/post/1"] = Page(200, PAGE)
        yield web, dns, ca


def test_capture_trusts_the_configured_ca_bundle(
    store: Store, config: Config, https_site: tuple[WebServer, DnsServer, Path]
) -> None:
    web, dns, ca = https_site
    url = web.url("/post/1", host="pages.test")
    cfg = local_config(config, dns.address, ca_bundle=str(ca))
    assert (
        cfg.ca_bundle == str(ca) and "ca_bundle" not in cfg.extra
    )  # the typed setting, as config.toml sets it
    cap = capture_url(store, cfg, url)
    assert cap.status_code == 200 and cap.final_url == url
    cfg.ca_bundle = ""
    with pytest.raises(FetchError, match=r"(?i)certificate"):
        capture_url(store, cfg, url)


def test_hop_recorder_reads_ca_bundle_from_the_typed_setting(
    config: Config, https_site: tuple[WebServer, DnsServer, Path]
) -> None:
    web, dns, ca = https_site
    url = web.url("/post/1", host="pages.test")
    with HopRecorder(local_config(config, dns.address, ca_bundle=str(ca))) as recorder:
        hop = recorder.fetch(url).final
    assert hop.status == 200 and hop.ip == "127.0.0.1" and hop.body == PAGE


def test_recheck_trusts_the_configured_ca_bundle(
    store: Store, config: Config, https_site: tuple[WebServer, DnsServer, Path]
) -> None:
    web, dns, ca = https_site
    url = web.url("/post/1", host="pages.test")
    cfg = authority(local_config(config, dns.address, ca_bundle=str(ca), recheck_host_interval=0))
    case_id = decided_case(store, url)
    capture_url(store, cfg, url, case_id=case_id, actor="ana")
    doc = create_document(
        store, cfg, case_id, "removal_order", RECIPIENT, "ana", role="analyst", grounds=["a"], reasons="r"
    )
    approve(store, case_id)
    sent = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    clear_to_send(store, doc, "ana", "analyst")
    record_delivery(store, doc, "email", "cp@host.test", True, 1, "ana", at=sent, role="analyst")
    later = sent + timedelta(hours=1)
    assert run_rechecks(store, cfg, due_only=False, now=lambda: later).outcomes == {"up": 1}
    cfg.ca_bundle = ""
    assert run_rechecks(store, cfg, due_only=False, now=lambda: later).outcomes == {"error": 1}
    with store.read() as conn:
        errors = [r.error for r in conn.execute(select(recheck_results).order_by(recheck_results.c.id))]
    assert errors[0] is None and "certificate" in (errors[1] or "").lower()
