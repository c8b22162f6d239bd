"""The de-confliction gate wired into the workflow: a case whose URL is on the do-not-refer list cannot be
proposed for a removal order through ``workflow.transition``; the owner is notified, the block audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.privacy_helpers import make_item, open_case
from vigil.audit import log as audit
from vigil.core.model import utcnow
from vigil.privacy.deconfliction import add_entry, lift_entry, pending_notifications
from vigil.store import Store
from vigil.workflow.errors import TransitionBlocked
from vigil.workflow.transition import transition

SECRET = "operation placeholder-42 under way"
TO_DECISION = [
    ("triage", {}),
    ("confirmed", {}),
    ("decision", {"decision": "removal_order"}),
]


def test_listed_case_cannot_reach_proposed(store: Store) -> None:
    case_id = open_case(store, make_item(3, url="https://example.net/posts/3"))
    for to, details in TO_DECISION:
        transition(store, case_id, to, "ana", "analyst", f"because {to}", **details)
    entry = add_entry(store, "olga", "domain", "example.net", SECRET, utcnow() + timedelta(days=7))  # type: ignore[arg-type]
    with pytest.raises(TransitionBlocked) as caught:
        transition(store, case_id, "proposed", "ana", "analyst", "order it")
    assert "olga" in str(caught.value) and SECRET not in str(caught.value)
    assert store.get_case(case_id).state == "decision"  # type: ignore[union-attr]
    (note,) = pending_notifications(store, "olga")
    assert note["case_id"] == case_id
    actions = [e.action for e in audit.entries(store, 200) if e.target_id == str(case_id)]
    assert "dnr.block" in actions and "case.transition_refused" in actions
    # Once the owner lifts the entry, the same move goes through.
    lift_entry(store, "olga", ["analyst"], entry.id)
    assert transition(store, case_id, "proposed", "ana", "analyst", "order it").state == "proposed"
    assert audit.verify(store).ok
