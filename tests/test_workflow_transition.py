"""The one transition function: roles, the four-eyes rule, required details, hooks, history, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.workflow_helpers import seed_case
from vigil.audit import log as audit
from vigil.core.model import CaseState, Severity
from vigil.store import Store
from vigil.workflow.errors import Forbidden, InvalidTransition, NotFound, TransitionBlocked, WorkflowError
from vigil.workflow.queue import case_events_of
from vigil.workflow.sla import deadlines
from vigil.workflow.sla_config import SlaSettings
from vigil.workflow.states import TRANSITIONS, allowed_for
from vigil.workflow.transition import TransitionRequest, transition

REVIEW_PATH = [
    ("triage", "ana", "analyst", {}),
    ("confirmed", "ana", "analyst", {}),
    ("decision", "ana", "analyst", {"decision": "removal_order"}),
    ("proposed", "ana", "analyst", {}),
    ("approved", "vera", "verifier", {}),
    ("sent", "ana", "analyst", {}),
    ("acknowledged", "ana", "analyst", {}),
    ("removed", "ana", "analyst", {}),
    ("recheck", "ana", "analyst", {}),
    ("closed", "ana", "analyst", {"outcome": "removed"}),
]


def test_whole_path_records_who_when_why_and_audits_each_move(store: Store) -> None:
    case_id = seed_case(store)
    for to, actor, role, details in REVIEW_PATH:
        case = transition(store, case_id, to, actor, role, f"because {to}", **details)
        assert case.state == to
    events = case_events_of(store, case_id)
    assert [e["to"] for e in events] == ["new", *(p[0] for p in REVIEW_PATH)]
    assert events[5]["actor"] == "vera" and events[5]["reason"] == "because approved"
    assert events[5]["meta"]["role"] == "verifier"
    moves = [e for e in audit.entries(store, 100) if e.action == "case.transition"]
    assert len(moves) == len(REVIEW_PATH)
    assert {e.target_id for e in moves} == {str(case_id)}
    assert store.get_case(case_id).meta["decision"] == "removal_order"  # type: ignore[union-attr]
    assert audit.verify(store).ok


def test_proposer_cannot_approve_own_proposal(store: Store) -> None:
    case_id = seed_case(store)
    for to, details in (
        ("triage", {}),
        ("confirmed", {}),
        ("decision", {"decision": "refer"}),
        ("proposed", {}),
    ):
        transition(store, case_id, to, "vera", "verifier", "r", **details)
    with pytest.raises(Forbidden, match="four eyes"):
        transition(store, case_id, "approved", "vera", "verifier", "self-approval")
    assert store.get_case(case_id).state == CaseState.PROPOSED  # type: ignore[union-attr]
    refused = [e for e in audit.entries(store, 50) if e.action == "case.transition_refused"]
    assert refused and "four eyes" in refused[0].details["why"]
    transition(store, case_id, "approved", "lena", "legal", "second pair of eyes")
    assert store.get_case(case_id).state == CaseState.APPROVED  # type: ignore[union-attr]


def test_roles_and_graph_are_enforced(store: Store) -> None:
    case_id = seed_case(store)
    with pytest.raises(Forbidden):
        transition(store, case_id, "triage", "otto", "auditor", "no")
    with pytest.raises(Forbidden):
        transition(store, case_id, "triage", "adam", "admin", "no")
    with pytest.raises(InvalidTransition):
        transition(store, case_id, "approved", "vera", "verifier", "skip ahead")
    with pytest.raises(InvalidTransition):
        transition(store, case_id, "no-such-state", "ana", "analyst", "x")
    with pytest.raises(NotFound):
        transition(store, 999_999, "triage", "ana", "analyst", "x")
    with pytest.raises(WorkflowError, match="reason"):
        transition(store, case_id, "triage", "ana", "analyst", "   ")
    transition(store, case_id, "triage", "ana", "analyst", "look")
    transition(store, case_id, "confirmed", "ana", "analyst", "yes")
    with pytest.raises(WorkflowError, match="decision"):
        transition(store, case_id, "decision", "ana", "analyst", "which?")
    with pytest.raises(WorkflowError, match="decision"):
        transition(store, case_id, "decision", "ana", "analyst", "which?", decision="bogus")
    assert store.get_case(case_id).state == CaseState.CONFIRMED  # type: ignore[union-attr]


def test_pre_transition_check_can_block(store: Store) -> None:
    case_id = seed_case(store)
    seen: list[TransitionRequest] = []

    def do_not_refer(_: Store, request: TransitionRequest) -> str | None:
        seen.append(request)
        return "do-not-refer: live investigation" if request.to == CaseState.TRIAGE else None

    with pytest.raises(TransitionBlocked, match="live investigation"):
        transition(store, case_id, "triage", "ana", "analyst", "go", checks=[do_not_refer])
    assert seen and seen[0].actor == "ana" and seen[0].move == (CaseState.NEW, CaseState.TRIAGE)
    assert store.get_case(case_id).state == CaseState.NEW  # type: ignore[union-attr]
    transition(store, case_id, "dismissed", "ana", "analyst", "not relevant", checks=[do_not_refer])
    assert store.get_case(case_id).state == CaseState.DISMISSED  # type: ignore[union-attr]


def test_stale_state_is_refused(store: Store) -> None:
    case_id = seed_case(store)
    stale = store.get_case(case_id)
    transition(store, case_id, "triage", "ana", "analyst", "first")
    from vigil.workflow.transition import _apply

    assert stale is not None
    request = TransitionRequest(stale, CaseState.DISMISSED, "vera", "verifier", "second")
    with pytest.raises(InvalidTransition, match="meanwhile"), store.write() as conn:
        _apply(conn, request, stale.updated_at, {})
    assert store.get_case(case_id).state == CaseState.TRIAGE  # type: ignore[union-attr]


def test_every_state_is_reachable_and_roles_exist() -> None:
    reachable = {CaseState.NEW}
    frontier = [CaseState.NEW]
    while frontier:
        state = frontier.pop()
        for to in {t for (f, t) in TRANSITIONS if f == state} - reachable:
            reachable.add(to)
            frontier.append(to)
    assert reachable == set(CaseState)
    assert allowed_for("proposed", "analyst") == []
    assert CaseState.APPROVED in allowed_for("proposed", "verifier")


def test_sla_clocks(store: Store) -> None:
    case_id = seed_case(store, severity=Severity.THREAT_TO_LIFE)
    case = store.get_case(case_id)
    assert case is not None
    (review,) = deadlines(case, SlaSettings())
    assert review.due - case.opened_at == timedelta(minutes=30)
    for to, details in (
        ("triage", {}),
        ("confirmed", {}),
        ("decision", {"decision": "removal_order"}),
        ("proposed", {"cross_border": True}),
    ):
        transition(store, case_id, to, "ana", "analyst", "r", **details)
    transition(store, case_id, "approved", "vera", "verifier", "ok")
    case = transition(store, case_id, "sent", "ana", "analyst", "sent", complaint=True)
    names = [d.name for d in deadlines(case, SlaSettings())]
    assert names[0].startswith("removal order")
    assert any("48 h" in n for n in names) and any("72 h" in n for n in names)
    assert any("2 weeks" in n for n in names)
    first = deadlines(case, SlaSettings())[0]
    assert timedelta(minutes=59) < first.due - case.updated_at <= timedelta(hours=1)


def test_transition_inside_a_callers_transaction(store: Store) -> None:
    from vigil.workflow.transition import transition_in

    case_id = seed_case(store)
    with pytest.raises(RuntimeError), store.write() as conn:
        transition_in(conn, case_id, "triage", "ana", "analyst", "started with a delivery")
        raise RuntimeError("the delivery failed")  # the caller's transaction rolls back: no move
    assert store.get_case(case_id).state == CaseState.NEW  # type: ignore[union-attr]
    with store.write() as conn:
        moved = transition_in(conn, case_id, "triage", "ana", "analyst", "started with a delivery")
        with pytest.raises(Forbidden):
            transition_in(conn, case_id, "confirmed", "otto", "auditor", "not allowed")
    assert moved.state == CaseState.TRIAGE
    assert store.get_case(case_id).state == CaseState.TRIAGE  # type: ignore[union-attr]
    assert [e["to"] for e in case_events_of(store, case_id)] == ["new", "triage"]
    assert audit.verify(store).ok
