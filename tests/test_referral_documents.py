"""Removal orders (Annex I) validate against the shipped schema and render to PDF; notices and referrals
carry what the law asks; Annex II/III replies move the one-hour clock."""

from __future__ import annotations

import copy
import io
from datetime import datetime, timedelta
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.evidence_helpers import approve, decided_case, make_case
from vigil.audit import log as audit
from vigil.audit.history import history
from vigil.config import Config
from vigil.core.model import utcnow
from vigil.errors import UsageError
from vigil.referral.annex_i import member_states
from vigil.referral.annex_replies import ANNEX_II_FIELDS, ANNEX_III_FIELDS, annex_ii, annex_iii
from vigil.referral.delivery import clear_to_send, record_delivery
from vigil.referral.documents import (
    DocumentInvalid,
    create_document,
    get_document,
    removal_order_schema,
    validate_removal_order,
)
from vigil.referral.pdf import render_pdf
from vigil.referral.registry import load_platforms
from vigil.referral.replies import record_reply, replies_for
from vigil.referral.strings import load_strings
from vigil.referral.tables import referral_documents
from vigil.store import Store
from vigil.workflow.errors import Forbidden, InvalidTransition

URL = "https://files.example.test/f/123"
RECIPIENT = {
    "key": "placeholder-host",
    "name": "Placeholder Hosting B.V.",
    "email": "legal@host.test",
    "member_state": "NL",
    "legal_representative": {"name": "Placeholder Rep", "email": "rep@host.test"},
    "contact_point": {"name": "Contact point", "email": "cp@host.test", "phone": "+31 20 000 0000"},
}
REDRESS = {
    "body": "Placeholder District Court",
    "deadline": "within placeholder weeks of receipt",
    "legislation": "Placeholder Act, section 1",
}


def authority(config: Config) -> Config:
    config.extra["authority"] = {
        "name": "Placeholder Referral Unit",
        "member_state": "nl",
        "type": "law_enforcement",
        "email": "iru@authority.test",
        "representative": "Placeholder Officer, head of unit",
        "follow_up": {"name": "Duty desk", "email": "desk@authority.test", "phone": "+31 70 000 0000"},
        "redress": dict(REDRESS),
    }
    config.extra["notifier"] = {"name": "Analyst One", "email": "analyst@authority.test"}
    return config


def test_removal_order_validates_and_renders(store: Store, config: Config) -> None:
    cfg = authority(config)
    case_id = decided_case(store, URL)
    doc = create_document(
        store,
        cfg,
        case_id,
        "removal_order",
        RECIPIENT,
        "ana",
        role="analyst",
        grounds=["a", "d"],
        reasons="Placeholder reasons.",
    )
    body = doc["body"]
    jsonschema.Draft202012Validator(removal_order_schema()).validate(
        body
    )  # the shipped schema, independently
    assert body["section_b"]["urls"] == [URL]
    assert body["section_b"]["grounds"] == {"a": True, "b": False, "c": False, "d": True, "e": False}
    assert body["obligations"] == {"deadline_minutes": 60, "preservation_months": 6}
    a = body["section_a"]
    assert a["issuing_member_state"] == "NL" and a["main_establishment_member_state"] == "NL"
    assert a["addressee"]["legal_representative"]["name"] == "Placeholder Rep"
    assert a["addressee"]["contact_point"]["email"] == "cp@host.test"
    assert body["section_c"] == {"withhold_from_content_provider": False, "withhold_weeks": 0}
    assert body["section_d"] == {"main_establishment_elsewhere": False, "copy_sent_to": {}}
    assert body["section_e"]["authority_type"] == "law_enforcement"
    assert body["section_e"]["representative"].startswith("Placeholder Officer")
    assert body["section_f"]["follow_up"]["email"] == "desk@authority.test"
    assert body["section_g"] == REDRESS
    pdf = render_pdf(body, cfg)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    text = " ".join(text.split())
    assert URL in text and doc["reference"] in text and "one hour" in text
    assert "[X] (a)" in text and "[ ] (b)" in text
    for section in "ABCDEFG":
        assert f"Section {section}" in text
    assert "Placeholder District Court" in text and "law enforcement authority" in text
    # Drafting the order proposed the case, through the workflow: the analyst is the proposer.
    assert store.get_case(case_id).state == "proposed"  # type: ignore[union-attr]
    last = history(store, case_id)[-1]
    assert (last["from_state"], last["to_state"], last["actor"]) == ("decision", "proposed", "ana")
    assert last["meta"]["drafted_document"] == doc["id"] and doc["status"] == "draft"
    assert any(e.action == "referral.removal_order" for e in audit.entries(store))


def test_cross_border_order_names_the_other_authority(store: Store, config: Config) -> None:
    cfg = authority(config)
    case_id = decided_case(store, URL)
    elsewhere = {**RECIPIENT, "member_state": "IE"}
    with pytest.raises(UsageError, match=r"competent_authorities\.IE"):
        create_document(
            store, cfg, case_id, "removal_order", elsewhere, "ana", role="analyst", grounds=["a"], reasons="r"
        )
    assert store.get_case(case_id).state == "decision"  # type: ignore[union-attr]
    cfg.extra["competent_authorities"] = {"IE": {"name": "Placeholder Authority IE", "email": "ca@ie.test"}}
    doc = create_document(
        store, cfg, case_id, "removal_order", elsewhere, "ana", role="analyst", grounds=["a"], reasons="r"
    )
    d, f = doc["body"]["section_d"], doc["body"]["section_f"]
    assert d["main_establishment_elsewhere"] is True and d["copy_sent_to"]["email"] == "ca@ie.test"
    assert f["main_establishment_authority"] == d["copy_sent_to"]
    # The workflow's cross-border clocks (Art. 4: 48 h / 72 h) know about it.
    assert store.get_case(case_id).meta["cross_border"] is True  # type: ignore[union-attr]


def test_shipped_registry_entries_are_to_be_filled(store: Store, config: Config) -> None:
    """The shipped registry names platforms but no contact: an order to one is refused, saying what to fill;
    filled in by the user, the entry becomes the order's addressee."""
    cfg = authority(config)
    telegram = {p.key: p for p in load_platforms(cfg)}["telegram"]
    assert telegram.contact_point == {} and telegram.to_fill == ["contact_point", "member_state"]
    case_id = decided_case(store, "https://t.me/placeholder/1")
    with pytest.raises(UsageError, match=r"platforms\.yaml"):
        create_document(
            store,
            cfg,
            case_id,
            "removal_order",
            telegram.recipient("platform"),
            "ana",
            role="analyst",
            grounds=["a"],
            reasons="r",
        )
    (cfg.home / "platforms.yaml").write_text(
        "platforms:\n  - key: telegram\n    name: Placeholder Messenger\n    domains: [t.me]\n"
        "    member_state: nl\n    contact_point: {name: Desk, email: tco@messenger.test}\n"
        "    legal_representative: {name: Placeholder Rep EU, address: Placeholder street 1}\n",
        "utf-8",
    )
    filled = {p.key: p for p in load_platforms(cfg)}["telegram"]
    assert filled.to_fill == []
    doc = create_document(
        store,
        cfg,
        case_id,
        "removal_order",
        filled.recipient("platform"),
        "ana",
        role="analyst",
        grounds=["a"],
        reasons="r",
    )
    addressee = doc["body"]["section_a"]["addressee"]
    assert addressee["name"] == "Placeholder Messenger"
    assert addressee["contact_point"] == {"name": "Desk", "email": "tco@messenger.test"}
    assert addressee["legal_representative"]["address"] == "Placeholder street 1"


def _order_body(store: Store, config: Config) -> dict[str, Any]:
    case_id = decided_case(store, URL)
    doc = create_document(
        store, config, case_id, "removal_order", RECIPIENT, "ana", role="analyst", grounds=["c"], reasons="r"
    )
    return dict(doc["body"])


def test_schema_rejects_what_annex_i_requires(config: Config, store: Store) -> None:
    cfg = authority(config)
    good = _order_body(store, cfg)
    validate_removal_order(good)
    for path, value in [
        (("section_b", "grounds"), {"a": False, "b": False, "c": False, "d": False, "e": False}),
        (("section_b", "urls"), []),
        (("section_b", "urls"), ["javascript:alert(1)"]),
        (("section_b", "further_reasons"), "   "),
        (("obligations", "deadline_minutes"), 120),
        (("obligations", "preservation_months"), 3),
        (("section_a", "reference"), "../../etc"),
        (("section_a", "issued_at"), "yesterday"),
        (("section_a", "main_establishment_member_state"), "US"),
        (("section_a", "addressee"), {"name": "No contact point"}),
        (("section_c", "withhold_weeks"), 2),  # weeks without withholding
        (("section_c", "withhold_from_content_provider"), True),  # withholding for 0 weeks
        (("section_d", "main_establishment_elsewhere"), True),  # says elsewhere; A says the same State
        (("section_e", "authority_type"), "private company"),
        (("section_e", "email"), ""),  # no e-mail and no address: cannot be reached
        (("section_f", "follow_up"), {"name": "Desk"}),
        (("section_g", "body"), ""),
        (("section_g", "deadline"), None),
    ]:
        bad = copy.deepcopy(good)
        bad[path[0]][path[1]] = value
        with pytest.raises(DocumentInvalid):
            validate_removal_order(bad)
    withheld = copy.deepcopy(good)
    withheld["section_c"] = {"withhold_from_content_provider": True, "withhold_weeks": 7}
    with pytest.raises(DocumentInvalid):
        validate_removal_order(withheld)  # Art. 11(3): six weeks at most
    withheld["section_c"]["withhold_weeks"] = 6
    validate_removal_order(withheld)
    case_id = decided_case(store, URL + "?second")
    with pytest.raises(UsageError, match="ground"):
        create_document(
            store, cfg, case_id, "removal_order", RECIPIENT, "ana", role="analyst", grounds=["z"], reasons="r"
        )
    with pytest.raises(DocumentInvalid):
        create_document(
            store, cfg, case_id, "removal_order", RECIPIENT, "ana", role="analyst", grounds=[], reasons="r"
        )
    for key, needed in (("type", "type"), ("redress", "redress"), ("name", "authority")):
        broken = copy.deepcopy(cfg.extra["authority"])
        broken.pop(key)
        cfg.extra["authority"] = broken
        with pytest.raises(UsageError, match=needed):
            create_document(
                store,
                cfg,
                case_id,
                "removal_order",
                RECIPIENT,
                "ana",
                role="analyst",
                grounds=["a"],
                reasons="r",
            )
        authority(cfg)
    assert store.get_case(case_id).state == "decision"  # type: ignore[union-attr]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    junk=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
        max_leaves=10,
    )
)
def test_schema_never_accepts_junk(junk: object) -> None:
    with pytest.raises(DocumentInvalid):
        validate_removal_order(junk if isinstance(junk, dict) else {"x": junk})


def test_dsa_notice_and_voluntary_referral(store: Store, config: Config) -> None:
    cfg = authority(config)
    noticed = decided_case(store, URL, "notice")
    notice = create_document(
        store,
        cfg,
        noticed,
        "dsa_notice",
        RECIPIENT,
        "ana",
        role="analyst",
        reasons="Placeholder explanation.",
    )
    body = notice["body"]
    assert body["urls"] == [URL] and body["notifier"] == {
        "name": "Analyst One",
        "email": "analyst@authority.test",
    }
    assert "bona fide" in body["good_faith_statement"] and body["reasons"]
    referred = decided_case(store, URL + "?referred", "refer")
    referral = create_document(
        store,
        cfg,
        referred,
        "voluntary_referral",
        {**RECIPIENT, "terms_url": "https://host.test/tos"},
        "ana",
        role="analyst",
        reasons="Against the terms.",
    )
    assert "not a removal order" in referral["body"]["introduction"] and referral["body"]["terms_url"]
    for doc in (notice, referral):
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(doc["body"], cfg))).pages)
        assert URL in text and doc["reference"] in text
    cfg.extra.pop("notifier")
    with pytest.raises(UsageError, match="notifier"):
        create_document(store, cfg, noticed, "dsa_notice", RECIPIENT, "ana", role="analyst", reasons="x")


def test_drafting_needs_a_decided_case(store: Store, config: Config) -> None:
    """A document is drafted only for a case confirmed and decided for that kind of document; each refusal
    is audited and leaves the case where it was."""
    cfg = authority(config)
    fresh = make_case(store, URL)
    with pytest.raises(InvalidTransition, match="decided"):
        create_document(
            store, cfg, fresh, "removal_order", RECIPIENT, "ana", role="analyst", grounds=["a"], reasons="r"
        )
    assert store.get_case(fresh).state == "new"  # type: ignore[union-attr]
    refer = decided_case(store, URL + "?refer", "refer")
    with pytest.raises(InvalidTransition, match="removal_order"):
        create_document(
            store, cfg, refer, "removal_order", RECIPIENT, "ana", role="analyst", grounds=["a"], reasons="r"
        )
    with pytest.raises(Forbidden):
        create_document(
            store, cfg, refer, "voluntary_referral", RECIPIENT, "otto", role="auditor", reasons="r"
        )
    refused = [e for e in audit.entries(store, 500) if e.action == "referral.draft_refused"]
    assert {e.target_id for e in refused} == {str(fresh), str(refer)} and len(refused) == 3
    assert store.get_case(refer).state == "decision"  # type: ignore[union-attr]
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(referral_documents)).scalar_one() == 0
    assert audit.verify(store).ok


def _sent_order(store: Store, cfg: Config) -> tuple[int, dict[str, Any], datetime]:
    case_id = decided_case(store, URL)
    doc = create_document(
        store, cfg, case_id, "removal_order", RECIPIENT, "ana", role="analyst", grounds=["a"], reasons="r"
    )
    approve(store, case_id)
    sent_at = utcnow()
    assert clear_to_send(store, doc, "ana", "analyst") is True
    record_delivery(store, doc, "email", "cp@host.test", True, 1, "ana", at=sent_at, role="analyst")
    return case_id, doc, sent_at


def _annex(doc: dict[str, Any], received: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "reference": doc["reference"],
        "received_at": received.isoformat(),
        "provider": "Placeholder Hosting B.V.",
        "member_state": "NL",
        **fields,
    }


def test_annex_replies_move_the_clock(store: Store, config: Config) -> None:
    cfg = authority(config)
    case_id, doc, sent_at = _sent_order(store, cfg)
    assert get_document(store, doc["id"])["deadline_at"] == sent_at + timedelta(hours=1)
    assert store.get_case(case_id).state == "sent"  # type: ignore[union-attr]
    received = sent_at + timedelta(minutes=2)
    impossible = _annex(
        doc, received, reasons=["force_majeure"], explanation="Placeholder data centre outage."
    )
    for bad in (
        {**impossible, "reasons": ["bored"]},
        {**impossible, "reasons": []},
        {**impossible, "explanation": " "},
        {**impossible, "reference": "OTHER-1"},
        {**impossible, "member_state": "US"},
        {**impossible, "received_at": "last tuesday"},
        {**impossible, "received_at": (utcnow() + timedelta(days=2)).isoformat()},
        {**impossible, "surprise": "field"},
        {k: v for k, v in impossible.items() if k != "provider"},
    ):
        with pytest.raises(UsageError, match="Annex III"):
            record_reply(store, doc["id"], "annex_iii", "ana", bad, role="analyst")
    assert replies_for(store, doc["id"]) == []  # refused replies leave nothing behind
    stored = record_reply(store, doc["id"], "annex_iii", "ana", impossible, role="analyst")
    assert stored["data"]["articles"] == ["3(7)"] and stored["data"]["clarification_requested"] == ""
    stopped = get_document(store, doc["id"])
    assert stopped["status"] == "impossible" and stopped["deadline_at"] is None
    ended = sent_at + timedelta(hours=5)
    record_reply(store, doc["id"], "obstacle_ended", "ana", {}, at=ended, role="analyst")
    assert get_document(store, doc["id"])["deadline_at"] == ended + timedelta(hours=1)
    confirmed = _annex(doc, received, measure="removed", measure_at=ended.isoformat())
    with pytest.raises(UsageError, match="measure"):
        record_reply(store, doc["id"], "annex_ii", "ana", {**confirmed, "measure": "hidden"}, role="analyst")
    with pytest.raises(UsageError, match="measure_at"):
        record_reply(store, doc["id"], "annex_ii", "ana", {**confirmed, "measure_at": None}, role="analyst")
    record_reply(store, doc["id"], "annex_ii", "ana", confirmed, at=ended, role="analyst")
    assert get_document(store, doc["id"])["status"] == "executed"
    events = history(store, case_id)
    reasons = [e["reason"] for e in events]
    assert "provider reply: annex iii" in reasons and "provider reply: annex ii" in reasons
    # The Annex II reply moved the case through the workflow; the Annex III one was a note.
    assert (events[-1]["from_state"], events[-1]["to_state"]) == ("sent", "acknowledged")
    assert events[-1]["meta"]["measure"] == "removed"
    actions = [e.action for e in audit.entries(store, 500)]
    assert "referral.reply.annex_ii" in actions and "referral.reply.annex_iii" in actions
    assert audit.verify(store).ok


def test_art_3_8_reply_needs_the_clarification(store: Store, config: Config) -> None:
    cfg = authority(config)
    _case_id, doc, sent_at = _sent_order(store, cfg)
    unclear = _annex(
        doc, sent_at, reasons=["manifest_error", "force_majeure"], explanation="The URL has a typo."
    )
    with pytest.raises(UsageError, match="clarification_requested"):
        record_reply(store, doc["id"], "annex_iii", "ana", unclear, role="analyst")
    unclear["clarification_requested"] = "Please send the complete URL."
    stored = record_reply(store, doc["id"], "annex_iii", "ana", unclear, role="analyst")
    assert stored["data"]["reasons"] == ["force_majeure", "manifest_error"]
    assert stored["data"]["articles"] == ["3(7)", "3(8)"]
    with pytest.raises(UsageError, match="clarification"):
        record_reply(store, doc["id"], "obstacle_ended", "ana", {}, role="analyst")
    record_reply(
        store, doc["id"], "obstacle_ended", "ana", {"clarification": "Sent the full URL."}, role="analyst"
    )
    assert get_document(store, doc["id"])["status"] == "sent"
    with pytest.raises(UsageError, match="no open Annex III"):
        record_reply(store, doc["id"], "obstacle_ended", "ana", {"clarification": "again"}, role="analyst")
    with pytest.raises(Forbidden):
        record_reply(store, doc["id"], "acknowledgement", "otto", {}, role="auditor")


def test_annex_forms_only_for_sent_orders(store: Store, config: Config) -> None:
    cfg = authority(config)
    case_id = decided_case(store, URL, "notice")
    notice = create_document(store, cfg, case_id, "dsa_notice", RECIPIENT, "ana", role="analyst", reasons="r")
    with pytest.raises(UsageError, match="not been sent"):
        record_reply(store, notice["id"], "acknowledgement", "ana", {}, role="analyst")
    approve(store, case_id)
    record_delivery(store, notice, "email", "cp@host.test", True, 1, "ana", role="analyst")
    with pytest.raises(UsageError, match="removal order"):
        record_reply(store, notice["id"], "annex_ii", "ana", _annex(notice, utcnow()), role="analyst")
    record_reply(store, notice["id"], "acknowledgement", "ana", {}, role="analyst")
    assert store.get_case(case_id).state == "acknowledged"  # type: ignore[union-attr]


reply_data = st.dictionaries(
    st.sampled_from(sorted(ANNEX_III_FIELDS | ANNEX_II_FIELDS | {"x", "clarification"})),
    st.none() | st.booleans() | st.integers() | st.text(max_size=30) | st.lists(st.text(max_size=20)),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from(["annex_ii", "annex_iii"]), data=reply_data)
def test_hostile_replies_are_refused_cleanly(kind: str, data: dict[str, Any]) -> None:
    """Any shape of reply data: stored only if every field the form names checks out, else a UsageError
    and nothing written."""
    doc = {"id": 1, "reference": "VIGIL-20260101-1-1"}
    check = annex_ii if kind == "annex_ii" else annex_iii
    try:
        out = check(data, doc, utcnow())
    except UsageError:
        return
    assert out["reference"] == doc["reference"] and out["member_state"] in member_states()


def test_strings_per_language(config: Config) -> None:
    assert load_strings("en")["removal_order"]["title"] == "Removal order"
    folder = config.home / "strings"
    folder.mkdir()
    (folder / "fr.json").write_text('{"removal_order": {"title": "Injonction de retrait"}}', "utf-8")
    fr = load_strings("fr", config)
    assert fr["removal_order"]["title"] == "Injonction de retrait"
    assert fr["removal_order"]["deadline"] == load_strings("en")["removal_order"]["deadline"]  # falls back
    with pytest.raises(UsageError):
        load_strings("xx", config)
    with pytest.raises(UsageError):
        load_strings("../../etc/passwd", config)


def test_concurrent_drafts_get_distinct_references(store: Store, config: Config) -> None:
    """Two drafts for one case at the same moment (one per hosting provider, say) read the same count and
    took the same reference: an internal error (a unique violation) instead of a retry. Eight drafts race
    over two stores (two processes' views of one database)."""
    import threading

    from vigil.boot import open_store

    cfg = authority(config)
    case_id = decided_case(store, URL, "refer")
    url = store.engine.url.render_as_string(hide_password=False)
    other = open_store(cfg, url=url)
    drafts = 8
    start = threading.Barrier(drafts)
    made: list[dict[str, Any]] = []
    failed: list[BaseException] = []

    def draft(i: int) -> None:
        start.wait()
        try:
            made.append(
                create_document(
                    store if i % 2 else other,
                    cfg,
                    case_id,
                    "voluntary_referral",
                    {**RECIPIENT, "key": f"host-{i}"},
                    "ana",
                    role="analyst",
                    reasons="Placeholder explanation.",
                )
            )
        except BaseException as exc:  # the test reports every failure, not the first
            failed.append(exc)

    threads = [threading.Thread(target=draft, args=(i,)) for i in range(drafts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert failed == []
    references = [doc["reference"] for doc in made]
    assert len(set(references)) == drafts
    with store.read() as conn:
        stored = conn.execute(select(referral_documents.c.reference, referral_documents.c.body)).all()
    assert sorted(r for r, _ in stored) == sorted(references)
    assert all(body["reference"] == reference for reference, body in stored)
