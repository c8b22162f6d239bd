"""Delivery against local servers: SMTP with STARTTLS (aiosmtpd, a certificate the test makes), a webhook
that fails first and then succeeds (signature checked), and an action-day batch grouped by provider."""

from __future__ import annotations

import csv
import email
import json
from collections.abc import Iterator
from email import policy
from pathlib import Path
from typing import Any

import pytest

from tests.evidence_helpers import approve, decided_case, run_cli
from tests.local_servers import Page, SmtpCollect, smtp_server, web_server
from tests.referral_web_helpers import register_provider
from tests.test_referral_documents import RECIPIENT, URL, authority
from vigil.audit import log as audit
from vigil.audit.history import history
from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import utcnow
from vigil.errors import ConfigError
from vigil.net.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from vigil.referral.batch import export_batch
from vigil.referral.documents import create_document, get_document
from vigil.referral.mail import send_email
from vigil.referral.tables import referral_deliveries, watched_urls
from vigil.referral.webhook import send_webhook
from vigil.store import Store

SECRET = "placeholder-webhook-secret-0123"


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[SmtpCollect, int, Path]]:
    with smtp_server(tmp_path) as server:
        yield server


def approved_document(
    store: Store, cfg: Config, url: str = URL, kind: str = "removal_order", **recipient: Any
) -> tuple[int, dict[str, Any]]:
    """The review path: an analyst decides and drafts (which proposes the case), a verifier approves."""
    decision = {"removal_order": "removal_order", "dsa_notice": "notice", "voluntary_referral": "refer"}[kind]
    case_id = decided_case(store, url, decision)
    extra: dict[str, Any] = {"grounds": ["a"]} if kind == "removal_order" else {}
    doc = create_document(
        store, cfg, case_id, kind, {**RECIPIENT, **recipient}, "ana", role="analyst", reasons="r", **extra
    )
    approve(store, case_id)
    return case_id, doc


def test_email_with_starttls(store: Store, config: Config, smtp: tuple[SmtpCollect, int, Path]) -> None:
    handler, port, cert = smtp
    cfg = register_provider(authority(config))
    cfg.extra["smtp"] = {"host": "127.0.0.1", "port": port, "from": "iru@authority.test", "cafile": str(cert)}
    case_id, doc = approved_document(store, cfg)
    assert send_email(store, cfg, doc, "legal@host.test", "ana", role="analyst") == 0
    ((sender, rcpts, raw),) = handler.messages
    assert sender == "iru@authority.test" and rcpts == ["legal@host.test"]
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert doc["reference"] in str(msg["Subject"])
    names = sorted(part.get_filename() for part in msg.iter_attachments())
    assert names == [f"{doc['reference']}.json", f"{doc['reference']}.pdf"]
    attached = next(p for p in msg.iter_attachments() if p.get_filename().endswith(".json"))
    assert json.loads(attached.get_content())["section_b"]["urls"] == [URL]
    assert store.get_case(case_id).state == "sent"  # type: ignore[union-attr]
    assert get_document(store, doc["id"])["status"] == "sent"
    with store.read() as conn:
        assert [r.url for r in conn.execute(watched_urls.select())] == [URL]
    assert any(e.action == "referral.delivery" for e in audit.entries(store))
    moved = history(store, case_id)[-1]
    assert (moved["from_state"], moved["to_state"], moved["actor"]) == ("approved", "sent", "ana")


def test_email_refused_without_tls_trust_is_recorded(
    store: Store, config: Config, smtp: tuple[SmtpCollect, int, Path]
) -> None:
    handler, port, _cert = smtp
    cfg = register_provider(authority(config))
    cfg.extra["smtp"] = {"host": "127.0.0.1", "port": port, "from": "iru@authority.test"}  # system CAs only
    case_id, doc = approved_document(store, cfg)
    assert send_email(store, cfg, doc, "legal@host.test", "ana", role="analyst") == 1
    assert handler.messages == []
    with store.read() as conn:
        row = conn.execute(referral_deliveries.select()).mappings().one()
    assert row["ok"] is False and "SSL" in row["details"]["error"]
    assert store.get_case(case_id).state == "approved"  # type: ignore[union-attr]
    assert history(store, case_id)[-1]["reason"] == "delivery by email failed"
    cfg.extra["smtp"] = {}
    with pytest.raises(ConfigError):
        send_email(store, cfg, doc, "legal@host.test", "ana", role="analyst")


def test_webhook_retries_and_signs(store: Store, config: Config) -> None:
    cfg = authority(config)
    cfg.extra["webhook"] = {"secret": SECRET, "retries": 3, "backoff": 0.01}
    _case_id, doc = approved_document(store, cfg, kind="dsa_notice")
    pauses: list[float] = []
    with web_server() as web:
        register_provider(cfg, web.url("/hook"))
        web.sequence["/hook"] = [Page(503, b"busy"), Page(500, b"oops"), Page(202, b"ok")]
        assert (
            send_webhook(store, cfg, doc, web.url("/hook"), "ana", role="analyst", sleep=pauses.append) == 0
        )
        posts = [r for r in web.requests if r[0] == "/hook"]
    assert len(posts) == 3 and pauses == [0.01, 0.02]
    for _path, headers, body in posts:
        assert verify(SECRET.encode(), headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
        assert not verify(b"another-secret-value", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert json.loads(posts[-1][2])["reference"] == doc["reference"]
    with store.read() as conn:
        row = conn.execute(referral_deliveries.select()).mappings().one()
    assert row["ok"] is True and row["attempts"] == 3 and row["details"]["answers"] == ["503", "500", "202"]


def test_webhook_gives_up_on_client_errors(store: Store, config: Config) -> None:
    cfg = authority(config)
    cfg.extra["webhook"] = {"secret": SECRET, "retries": 3, "backoff": 0.01}
    _case_id, doc = approved_document(store, cfg, kind="dsa_notice")
    with web_server() as web:
        register_provider(cfg, web.url("/hook"))
        web.sequence["/hook"] = [Page(400, b"bad")]
        assert (
            send_webhook(store, cfg, doc, web.url("/hook"), "ana", role="analyst", sleep=lambda s: None) == 1
        )
        assert len(web.requests) == 1
    cfg.extra["webhook"] = {"secret": "short"}
    with pytest.raises(ConfigError):
        send_webhook(store, cfg, doc, "http://127.0.0.1:9/hook", "ana", role="analyst")


def test_action_day_batch_grouped_by_provider(tmp_path: Path, store: Store, config: Config) -> None:
    cfg = authority(config)
    start = utcnow()
    for n, provider in enumerate(["host-a", "host-b", "host-a"]):
        approved_document(store, cfg, f"https://{provider}.test/item/{n}", "voluntary_referral", key=provider)
    unapproved = decided_case(store, "https://host-b.test/item/9", "refer")
    waiting = create_document(
        store,
        cfg,
        unapproved,
        "voluntary_referral",
        {**RECIPIENT, "key": "host-b"},
        "ana",
        role="analyst",
        reasons="r",
    )
    summary = export_batch(store, tmp_path / "batch", start, utcnow(), "ana", role="analyst")
    assert summary["documents"] == 3
    assert {k: v["documents"] for k, v in summary["providers"].items()} == {"host-a": 2, "host-b": 1}
    (skipped,) = summary["skipped"]
    assert skipped["document"] == waiting["id"] and "approved" in skipped["why"]
    with (tmp_path / "batch" / "host-a.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["url"] for r in rows) == ["https://host-a.test/item/0", "https://host-a.test/item/2"]
    data = json.loads((tmp_path / "batch" / "host-b.json").read_text("utf-8"))
    assert data["provider"] == "host-b" and len(data["documents"]) == 1
    assert waiting["reference"] not in (tmp_path / "batch" / "host-b.csv").read_text("utf-8")
    with store.read() as conn:
        assert len(conn.execute(watched_urls.select()).all()) == 3
        assert len(conn.execute(referral_deliveries.select()).all()) == 3
    assert store.get_case(unapproved).state == "proposed"  # type: ignore[union-attr]
    again = export_batch(store, tmp_path / "again", start, utcnow(), "ana", role="analyst")
    assert again["documents"] == 0  # what was handed over is not handed over twice


def test_cli_send_goes_to_the_addressee(home: Path, smtp: tuple[SmtpCollect, int, Path]) -> None:
    """``vigil referral send`` without --email: the document's addressee (``drafting.addressee_email``)."""
    handler, port, cert = smtp
    (home / "config.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nfrom = "iru@authority.test"\ncafile = "{cert}"\n',
        "utf-8",
    )
    cfg = register_provider(authority(Config.load(home)))
    store = open_store(cfg)
    case_id, doc = approved_document(store, cfg)
    store.close()
    result = run_cli(["referral", "send", str(doc["id"]), "--actor", "ana", "--role", "analyst"], home)
    assert result.returncode == 0, result.stderr
    ((_sender, rcpts, _raw),) = handler.messages
    assert rcpts == [RECIPIENT["email"]]
    reopened = open_store(cfg)
    try:
        assert reopened.get_case(case_id).state == "sent"  # type: ignore[union-attr]
    finally:
        reopened.close()
