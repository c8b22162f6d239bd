"""Removal orders (Annex I) validate against the shipped schema and render to PDF; notices and referrals
carry what the law asks; Annex II/III replies move the one-hour clock."""

from __future__ import annotations

import copy
import io
from datetime import timedelta

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from tests.evidence_helpers import make_case
from vigil.config import Config
from vigil.core.model import utcnow
from vigil.errors import UsageError
from vigil.referral.case_history import history
from vigil.referral.documents import (
    DocumentInvalid,
    create_document,
    get_document,
    removal_order_schema,
    validate_removal_order,
)
from vigil.referral.pdf import render_pdf
from vigil.referral.replies import record_reply
from vigil.referral.strings import load_strings
from vigil.store import Store
from vigil.workflow import audit

URL = "https://files.example.test/f/123"
RECIPIENT = {
    "key": "placeholder-host",
    "name": "Placeholder Hosting B.V.",
    "email": "legal@host.test",
    "legal_representative": {"name": "Placeholder Rep", "email": "rep@host.test"},
    "contact_point": {"name": "Contact point", "email": "cp@host.test", "phone": "+31 20 000 0000"},
}


def authority(config: Config) -> Config:
    config.extra["authority"] = {
        "name": "Placeholder Referral Unit",
        "member_state": "nl",
        "email": "iru@authority.test",
    }
    config.extra["notifier"] = {"name": "Analyst One", "email": "analyst@authority.test"}
    return config


def test_removal_order_validates_and_renders(store: Store, config: Config) -> None:
    cfg = authority(config)
    case_id = make_case(store, URL)
    doc = create_document(
        store,
        cfg,
        case_id,
        "removal_order",
        RECIPIENT,
        "legal1",
        grounds=["a", "d"],
        reasons="Placeholder reasons.",
    )
    body = doc["body"]
    jsonschema.Draft202012Validator(removal_order_schema()).validate(
        body
    )  # the shipped schema, independently
    assert body["section_b"]["urls"] == [URL]
    assert body["section_b"]["grounds"] == {"a": True, "b": False, "c": False, "d": True, "e": False}
    assert body["section_c"] == {"deadline_minutes": 60, "preservation_months": 6}
    assert body["section_a"]["issuing_member_state"] == "NL"
    assert body["section_a"]["addressee"]["legal_representative"]["name"] == "Placeholder Rep"
    pdf = render_pdf(body, cfg)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert URL in text and doc["reference"] in text and "one hour" in text
    assert "[X] (a)" in text and "[ ] (b)" in text
    assert history(store, case_id)[-1]["reason"] == "removal order issued"
    assert any(e.action == "referral.removal_order" for e in audit.entries(store))


def test_schema_rejects_what_annex_i_requires(config: Config, store: Store) -> None:
    cfg = authority(config)
    case_id = make_case(store, URL)
    good = create_document(
        store, cfg, case_id, "removal_order", RECIPIENT, "legal1", grounds=["c"], reasons="r"
    )["body"]
    for path, value in [
        (("section_b", "grounds"), {"a": False, "b": False, "c": False, "d": False, "e": False}),
        (("section_b", "urls"), []),
        (("section_b", "urls"), ["javascript:alert(1)"]),
        (("section_c", "deadline_minutes"), 120),
        (("section_c", "preservation_months"), 3),
        (("section_a", "reference"), "../../etc"),
        (("section_a", "issued_at"), "yesterday"),
    ]:
        bad = copy.deepcopy(good)
        bad[path[0]][path[1]] = value
        with pytest.raises(DocumentInvalid):
            validate_removal_order(bad)
    with pytest.raises(UsageError, match="ground"):
        create_document(store, cfg, case_id, "removal_order", RECIPIENT, "legal1", grounds=["z"], reasons="r")
    with pytest.raises(DocumentInvalid):
        create_document(store, cfg, case_id, "removal_order", RECIPIENT, "legal1", grounds=[], reasons="r")
    cfg.extra.pop("authority")
    with pytest.raises(UsageError, match="authority"):
        create_document(store, cfg, case_id, "removal_order", RECIPIENT, "legal1", grounds=["a"], reasons="r")


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
    case_id = make_case(store, URL)
    notice = create_document(
        store, cfg, case_id, "dsa_notice", RECIPIENT, "a1", reasons="Placeholder explanation."
    )
    body = notice["body"]
    assert body["urls"] == [URL] and body["notifier"] == {
        "name": "Analyst One",
        "email": "analyst@authority.test",
    }
    assert "bona fide" in body["good_faith_statement"] and body["reasons"]
    referral = create_document(
        store,
        cfg,
        case_id,
        "voluntary_referral",
        {**RECIPIENT, "terms_url": "https://host.test/tos"},
        "a1",
        reasons="Against the terms.",
    )
    assert "not a removal order" in referral["body"]["introduction"] and referral["body"]["terms_url"]
    for doc in (notice, referral):
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(doc["body"], cfg))).pages)
        assert URL in text and doc["reference"] in text
    cfg.extra.pop("notifier")
    with pytest.raises(UsageError, match="notifier"):
        create_document(store, cfg, case_id, "dsa_notice", RECIPIENT, "a1", reasons="x")


def test_annex_replies_move_the_clock(store: Store, config: Config) -> None:
    from vigil.referral.delivery import record_delivery

    cfg = authority(config)
    case_id = make_case(store, URL)
    doc = create_document(
        store, cfg, case_id, "removal_order", RECIPIENT, "legal1", grounds=["a"], reasons="r"
    )
    sent_at = utcnow()
    record_delivery(store, doc, "email", "legal@host.test", True, 1, "legal1", at=sent_at)
    assert get_document(store, doc["id"])["deadline_at"] == sent_at + timedelta(hours=1)
    assert store.get_case(case_id).state == "sent"
    with pytest.raises(UsageError, match="reason"):
        record_reply(store, doc["id"], "annex_iii", "legal1", {"reason": "bored", "explanation": "x"})
    record_reply(
        store,
        doc["id"],
        "annex_iii",
        "legal1",
        {"reason": "force_majeure", "explanation": "Data centre outage."},
    )
    stopped = get_document(store, doc["id"])
    assert stopped["status"] == "impossible" and stopped["deadline_at"] is None
    ended = sent_at + timedelta(hours=5)
    record_reply(store, doc["id"], "obstacle_ended", "legal1", {}, at=ended)
    assert get_document(store, doc["id"])["deadline_at"] == ended + timedelta(hours=1)
    record_reply(store, doc["id"], "annex_ii", "legal1", {"removed_at": ended.isoformat()})
    assert get_document(store, doc["id"])["status"] == "executed"
    reasons = [e["reason"] for e in history(store, case_id)]
    assert "provider reply: annex iii" in reasons and "provider reply: annex ii" in reasons
    assert audit.verify(store).ok


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
