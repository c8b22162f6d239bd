"""De-anonymisation: refused without a reason or a right, audited when done, time-limited, counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.privacy_helpers import EMAIL, HANDLES, NATIVE_IDS, make_item, open_case
from vigil.audit import log as audit
from vigil.privacy import access
from vigil.privacy.access import PermissionDenied
from vigil.privacy.identities import IdentityGuard
from vigil.privacy.reveal import RevealRefused, reveal, reveal_report
from vigil.store import Store


def _case(store: Store) -> tuple[int, str, str]:
    item = make_item(1, email=EMAIL)
    case_id = open_case(store, item)
    got = store.get_item(item.id)
    assert got is not None and got.account is not None
    return case_id, got.account.key, got.meta["email"]


def test_reveal_without_a_reason_is_refused_and_audited(store: Store) -> None:
    case_id, key, _ = _case(store)
    for code, text in (
        ("", "a long enough justification"),
        ("referral_check", ""),
        ("made_up", "justified x"),
    ):
        with pytest.raises(RevealRefused):
            reveal(store, "dana", ["dpo"], case_id, key, code, text)
    assert [e.action for e in audit.entries(store)] == ["privacy.reveal_refused"] * 3
    assert reveal_report(store)["refused"] == 3 and reveal_report(store)["reveals"] == 0


def test_reveal_with_a_reason_returns_the_clear_value_and_is_audited(store: Store) -> None:
    case_id, key, email_p = _case(store)
    now = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    shown = reveal(store, "dana", ["dpo"], case_id, key, "referral_check", "check before the order", now=now)
    assert shown.value == f"telegram:{NATIVE_IDS[1]}" and shown.details["handle"] == HANDLES[1]
    assert shown.expires_at == now + timedelta(minutes=15)
    mail = reveal(store, "dana", ["dpo"], case_id, email_p, "investigation_request", "ref INV-0001 request")
    assert mail.value == EMAIL and mail.kind == "email"
    (last, first) = audit.entries(store, limit=2)
    assert (first.action, first.actor, first.target_id) == ("privacy.reveal", "dana", str(case_id))
    assert (
        first.details["reason_code"] == "referral_check" and first.details["pseudonym"] == key.split(":")[1]
    )
    assert first.details["expires_at"] == shown.expires_at.isoformat()
    assert EMAIL not in str(last.details) and HANDLES[1] not in str(first.details)
    report = reveal_report(store)
    assert report["reveals"] == 2 and report["by_actor"] == {"dana": 2}
    assert report["by_reason"] == {"investigation_request": 1, "referral_check": 1}
    assert audit.verify(store).ok


def test_only_permitted_people_reveal_and_only_within_the_case(store: Store) -> None:
    case_id, key, _ = _case(store)
    other_case = open_case(store, make_item(2))
    with pytest.raises(RevealRefused, match="may not reveal"):
        reveal(store, "vic", ["verifier"], case_id, key, "referral_check", "check before the order")
    with pytest.raises(PermissionDenied):
        access.grant(store, "vic", ["verifier"], "vic")
    access.grant(store, "dana", ["dpo"], "vic")
    assert reveal(store, "vic", ["verifier"], case_id, key, "referral_check", "check before the order").value
    # An account that is not part of another case cannot be revealed through that case.
    guard = store.identities
    assert isinstance(guard, IdentityGuard)
    with pytest.raises(RevealRefused, match="not part of case"):
        reveal(store, "vic", ["verifier"], other_case, key, "referral_check", "check before the order")
    assert access.revoke(store, "dana", ["dpo"], "vic")
    with pytest.raises(RevealRefused):
        reveal(store, "vic", ["verifier"], case_id, key, "referral_check", "check before the order")
