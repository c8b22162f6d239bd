"""A case taken the whole way, against local servers: reviewed, captured, an order drafted by an analyst
and approved by a verifier, sent to a local webhook, confirmed by the provider (Annex II) and seen removed
by a re-check. For the API and the browser tests of the takedown panels and the reply form."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tests.evidence_helpers import approve, local_config, review_to
from tests.local_servers import DnsServer, Page, WebServer, dns_server, web_server
from tests.referral_web_helpers import register_provider
from tests.test_evidence_capture import PAGE, png_bytes
from tests.test_referral_documents import RECIPIENT, authority
from tests.workflow_helpers import seed_case
from vigil.config import Config
from vigil.core.model import utcnow
from vigil.evidence.capture import Capture, capture_url
from vigil.referral.documents import create_document
from vigil.referral.recheck import run_rechecks
from vigil.referral.replies import record_reply
from vigil.referral.tables import referral_documents, watched_urls
from vigil.referral.webhook import send_webhook
from vigil.store import Store
from vigil.store.schema import items

SECRET = "placeholder-webhook-secret-0123"


@dataclass
class Referred:
    case_id: int
    document: dict[str, Any]
    capture: Capture
    web: WebServer
    dns: DnsServer
    config: Config


@dataclass
class Sent:
    """A removal order sent to a local webhook, its URL on a local web server, nothing replied yet."""

    case_id: int
    document: dict[str, Any]
    capture: Capture
    web: WebServer
    dns: DnsServer
    config: Config
    sent: datetime


@contextmanager
def sent_order(store: Store, config: Config) -> Iterator[Sent]:
    with web_server() as web, dns_server() as dns:
        dns.zone["pages.test"] = {"A": ["127.0.0.1"]}
        web.pages["/post/1"] = Page(200, PAGE)
        web.pages["/img/one.png"] = Page(200, png_bytes((200, 40, 40)), {"Content-Type": "image/png"})
        web.pages["/hook"] = Page(200, b"ok")
        cfg = authority(local_config(config, dns.address, recheck_host_interval=0))
        register_provider(cfg, web.url("/hook"))
        cfg.extra["webhook"] = {"secret": SECRET, "retries": 0}
        url = web.url("/post/1", host="pages.test")
        case_id = seed_case(store, 42)
        with store.write() as conn:  # the seeded item, at the local server's address
            item_id = store.get_case(case_id).item_id  # type: ignore[union-attr]
            conn.execute(items.update().where(items.c.id == item_id).values(url=url))
        review_to(store, case_id, "removal_order")
        capture = capture_url(store, cfg, url, case_id=case_id, actor="ana")
        doc = create_document(
            store, cfg, case_id, "removal_order", RECIPIENT, "ana", role="analyst", grounds=["a"], reasons="r"
        )
        approve(store, case_id)
        sent = utcnow()
        assert send_webhook(store, cfg, doc, web.url("/hook"), "ana", role="analyst") == 0
        yield Sent(case_id, doc, capture, web, dns, cfg, sent)


def delivered_at(store: Store, document_id: int, when: datetime) -> None:
    """Move the order's delivery (and the start of its URLs' watch) back to ``when``: an order sent a while
    ago, so that a reply in the form's minutes gives a time to removal that can be read off."""
    with store.write() as conn:
        conn.execute(
            referral_documents.update()
            .where(referral_documents.c.id == document_id)
            .values(received_at=when, deadline_at=when + timedelta(hours=1))
        )
        conn.execute(
            watched_urls.update()
            .where(watched_urls.c.document_id == document_id)
            .values(referred_at=when, next_check_at=when)
        )


def annex_ii(document: dict[str, Any], received: datetime, removed: datetime) -> dict[str, str]:
    """A provider's Annex II for ``document`` (neutral placeholder names)."""
    return {
        "reference": document["reference"],
        "received_at": received.isoformat(),
        "provider": "Placeholder Hosting B.V.",
        "member_state": "NL",
        "measure": "removed",
        "measure_at": removed.isoformat(),
    }


@contextmanager
def referred_and_removed(store: Store, config: Config) -> Iterator[Referred]:
    with sent_order(store, config) as done:
        doc, sent = done.document, done.sent
        record_reply(store, doc["id"], "annex_ii", "ana", annex_ii(doc, sent, sent), role="analyst")
        done.web.pages["/post/1"] = Page(410, b"gone")
        summary = run_rechecks(store, done.config, now=lambda: sent + timedelta(minutes=30))
        assert summary.outcomes == {"removed": 1}
        yield Referred(done.case_id, doc, done.capture, done.web, done.dns, done.config)
