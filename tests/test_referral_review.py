"""Referral goes through the workflow: nothing is sent before a second person approved it, the do-not-refer
gate applies on send (and sees what the documents name and the evidence holds), and every refusal is
audited. Deliveries go to a local webhook, so "nothing was sent" is what the server saw."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.evidence_helpers import approve, decided_case
from tests.local_servers import Page, WebServer, web_server
from tests.referral_web_helpers import register_provider
from tests.test_evidence_retention import _fake_capture
from tests.test_referral_delivery import SECRET, approved_document
from tests.test_referral_documents import RECIPIENT, URL, authority
from vigil.audit import log as audit
from vigil.audit.history import history, note_in
from vigil.config import Config
from vigil.core.model import utcnow
from vigil.privacy.deconfliction import add_entry, lift_entry, pending_notifications
from vigil.referral.documents import create_document, get_document
from vigil.referral.tables import referral_deliveries
from vigil.referral.webhook import send_webhook
from vigil.store import Store
from vigil.workflow.errors import Forbidden, InvalidTransition, TransitionBlocked
from vigil.workflow.transition import transition

INVESTIGATION = "placeholder operation 7 under way"  # the do-not-refer reason: never shown to analysts


@pytest.fixture
def hook(config: Config) -> Any:
    cfg = authority(config)
    cfg.extra["webhook"] = {"secret": SECRET, "retries": 0, "backoff": 0.01}
    with web_server() as web:
        web.pages["/hook"] = Page(200, b"ok")
        yield register_provider(cfg, web.url("/hook")), web


def _send(store: Store, cfg: Config, web: WebServer, doc: dict[str, Any], actor: str = "ana") -> int:
    return send_webhook(store, cfg, doc, web.url("/hook"), actor, role="analyst", sleep=lambda s: None)


def _posts(web: WebServer) -> int:
    return sum(1 for r in web.requests if r[0] == "/hook")


def _deliveries(store: Store) -> int:
    with store.read() as conn:
        return len(conn.execute(select(referral_deliveries.c.id)).all())


def _actions(store: Store, case_id: int) -> list[str]:
    return [e.action for e in audit.entries(store, 1000) if e.target_id == str(case_id)]


def test_sending_without_approval_is_refused_and_audited(store: Store, hook: Any) -> None:
    cfg, web = hook
    case_id = decided_case(store, URL)
    doc = create_document(
        store, cfg, case_id, "removal_order", RECIPIENT, "ana", role="analyst", grounds=["a"], reasons="r"
    )
    assert store.get_case(case_id).state == "proposed"  # type: ignore[union-attr]
    with pytest.raises(InvalidTransition, match="approved"):
        _send(store, cfg, web, doc)
    assert _posts(web) == 0 and _deliveries(store) == 0
    assert "referral.send_refused" in _actions(store, case_id)
    # The proposer cannot approve it (the workflow's four-eyes rule), and an analyst is no approver anyway.
    with pytest.raises(Forbidden):
        transition(store, case_id, "approved", "ana", "verifier", "my own proposal")
    with pytest.raises(Forbidden):
        transition(store, case_id, "approved", "bob", "analyst", "not an approver")
    assert store.get_case(case_id).state == "proposed"  # type: ignore[union-attr]
    approve(store, case_id, "vera")
    assert _send(store, cfg, web, doc) == 0
    assert _posts(web) == 1 and store.get_case(case_id).state == "sent"  # type: ignore[union-attr]
    moves = [(e["from_state"], e["to_state"], e["actor"]) for e in history(store, case_id)]
    assert moves[-3:] == [
        ("decision", "proposed", "ana"),
        ("proposed", "approved", "vera"),
        ("approved", "sent", "ana"),
    ]
    # Someone whose role may not send is refused before anything goes out.
    with pytest.raises(Forbidden):
        send_webhook(store, cfg, doc, web.url("/hook"), "otto", role="auditor")
    assert _posts(web) == 1
    assert audit.verify(store).ok


def test_do_not_refer_hit_is_refused_on_send(store: Store, hook: Any) -> None:
    cfg, web = hook
    case_id, doc = approved_document(store, cfg)
    entry = add_entry(store, "olga", "domain", "example.test", INVESTIGATION, utcnow() + timedelta(days=7))
    with pytest.raises(TransitionBlocked) as caught:
        _send(store, cfg, web, doc)
    assert "olga" in str(caught.value) and INVESTIGATION not in str(caught.value)
    assert _posts(web) == 0 and _deliveries(store) == 0
    assert store.get_case(case_id).state == "approved"  # type: ignore[union-attr]
    actions = _actions(store, case_id)
    assert {"dnr.block", "case.transition_refused", "referral.send_refused"} <= set(actions)
    (note,) = pending_notifications(store, "olga")
    assert note["case_id"] == case_id and "sent" in note["message"]
    lift_entry(store, "olga", ["analyst"], entry.id)
    assert _send(store, cfg, web, doc) == 0 and _posts(web) == 1
    assert audit.verify(store).ok


def test_gate_sees_document_urls_and_evidence_hashes(store: Store, hook: Any, config: Config) -> None:
    cfg, web = hook
    listed = "https://mirror.example.org/copy/1"
    add_entry(store, "olga", "url", listed, INVESTIGATION, utcnow() + timedelta(days=7))
    case_id = decided_case(store, URL)  # the case's own URL is not listed
    with pytest.raises(TransitionBlocked):
        create_document(
            store,
            cfg,
            case_id,
            "removal_order",
            RECIPIENT,
            "ana",
            role="analyst",
            urls=[URL, listed],
            grounds=["a"],
            reasons="r",
        )
    assert store.get_case(case_id).state == "decision"  # type: ignore[union-attr]
    assert "referral.draft_refused" in _actions(store, case_id)
    # A capture made after approval whose media is on the list stops the send.
    other, doc = approved_document(store, cfg, URL + "?other")
    payload = b"placeholder media bytes for the gate"
    _fake_capture(store, cfg, other, [payload])
    digest = __import__("hashlib").sha256(payload).hexdigest()
    add_entry(store, "olga", "sha256", digest, INVESTIGATION, utcnow() + timedelta(days=7))
    with pytest.raises(TransitionBlocked):
        _send(store, cfg, web, doc)
    assert _posts(web) == 0


def test_author_of_a_document_cannot_approve_it(store: Store, hook: Any) -> None:
    """A second draft added to a proposal by the approver-to-be: the workflow sees a proposer who is someone
    else, so the document's own author is checked on send."""
    cfg, web = hook
    case_id = decided_case(store, URL)
    first = create_document(
        store, cfg, case_id, "removal_order", RECIPIENT, "ana", role="analyst", grounds=["a"], reasons="r"
    )
    second = create_document(
        store, cfg, case_id, "removal_order", RECIPIENT, "vera", role="verifier", grounds=["b"], reasons="r"
    )
    approve(store, case_id, "vera")
    with pytest.raises(Forbidden, match="four eyes"):
        _send(store, cfg, web, second)
    assert _send(store, cfg, web, first) == 0
    assert _posts(web) == 1 and "referral.send_refused" in _actions(store, case_id)


def test_documents_of_a_proposal_sent_back_stay_unsent(store: Store, hook: Any) -> None:
    cfg, web = hook
    case_id = decided_case(store, URL)
    old = create_document(
        store, cfg, case_id, "removal_order", RECIPIENT, "ana", role="analyst", grounds=["a"], reasons="r"
    )
    transition(store, case_id, "decision", "vera", "verifier", "grounds do not fit")
    new = create_document(
        store, cfg, case_id, "removal_order", RECIPIENT, "ana", role="analyst", grounds=["d"], reasons="r"
    )
    approve(store, case_id, "vera")
    with pytest.raises(InvalidTransition, match="round"):
        _send(store, cfg, web, old)
    assert _send(store, cfg, web, new) == 0
    # A further copy of the approved document, once the case is sent: allowed, noted, the state stays.
    assert _send(store, cfg, web, new) == 0 and _posts(web) == 2
    last = history(store, case_id)[-1]
    assert last["from_state"] == last["to_state"] == "sent"
    assert get_document(store, old["id"])["status"] == "draft"
    # Once approved, nothing new can be drafted into the proposal.
    with pytest.raises(InvalidTransition):
        create_document(
            store, cfg, case_id, "removal_order", RECIPIENT, "ana", role="analyst", grounds=["a"], reasons="r"
        )


def test_a_note_does_not_open_the_four_eyes_rule(store: Store, hook: Any, tmp_path: Path) -> None:
    """History lines that leave the state (evidence captured, replies) are not proposals: the proposer
    still cannot approve after someone else added one."""
    cfg, _web = hook
    case_id = decided_case(store, URL)
    create_document(
        store, cfg, case_id, "removal_order", RECIPIENT, "lena", role="legal", grounds=["a"], reasons="r"
    )
    with store.write() as conn:
        note_in(conn, case_id, "vera", "evidence captured", {"capture_id": 1})
    with pytest.raises(Forbidden, match="four eyes"):
        transition(store, case_id, "approved", "lena", "legal", "approving my own order")
    approve(store, case_id, "vera")
