"""The case state machine: which state may follow which, and which roles may make each move.

    new -> triage -> confirmed | dismissed
    confirmed -> decision (no action / refer / notice / removal order / threat-to-life escalation)
    decision -> proposed -> approved (four eyes: never by the proposer) -> sent -> acknowledged
    sent | acknowledged -> removed | refused | no_response -> recheck (live / removed / reappeared) -> closed

A move back is allowed where review needs it: a verifier returns a proposal to ``decision``, a re-check
that finds the content reappeared reopens the case at ``triage``.
"""

from __future__ import annotations

from enum import StrEnum

from vigil.core.model import CaseState as S


class Decision(StrEnum):
    NO_ACTION = "no_action"
    REFER = "refer"
    NOTICE = "notice"
    REMOVAL_ORDER = "removal_order"
    THREAT_TO_LIFE = "threat_to_life"


class RecheckOutcome(StrEnum):
    LIVE = "live"
    REMOVED = "removed"
    REAPPEARED = "reappeared"


CASE_WORKERS = frozenset({"analyst", "verifier"})
APPROVERS = frozenset({"verifier", "legal"})

# (from, to) -> roles allowed to make the move.
TRANSITIONS: dict[tuple[S, S], frozenset[str]] = {
    (S.NEW, S.TRIAGE): CASE_WORKERS,
    (S.NEW, S.DISMISSED): CASE_WORKERS,
    (S.TRIAGE, S.CONFIRMED): CASE_WORKERS,
    (S.TRIAGE, S.DISMISSED): CASE_WORKERS,
    (S.CONFIRMED, S.DECISION): CASE_WORKERS | {"legal"},
    (S.DECISION, S.PROPOSED): CASE_WORKERS | {"legal"},
    (S.DECISION, S.CLOSED): CASE_WORKERS,  # decided: no action
    (S.PROPOSED, S.APPROVED): APPROVERS,
    (S.PROPOSED, S.DECISION): APPROVERS,  # sent back for a different decision
    (S.APPROVED, S.SENT): CASE_WORKERS,
    (S.SENT, S.ACKNOWLEDGED): CASE_WORKERS,
    (S.SENT, S.NO_RESPONSE): CASE_WORKERS,
    (S.SENT, S.REMOVED): CASE_WORKERS,
    (S.SENT, S.REFUSED): CASE_WORKERS,
    (S.ACKNOWLEDGED, S.REMOVED): CASE_WORKERS,
    (S.ACKNOWLEDGED, S.REFUSED): CASE_WORKERS,
    (S.ACKNOWLEDGED, S.NO_RESPONSE): CASE_WORKERS,
    (S.REMOVED, S.RECHECK): CASE_WORKERS,
    (S.REFUSED, S.RECHECK): CASE_WORKERS,
    (S.NO_RESPONSE, S.RECHECK): CASE_WORKERS,
    (S.RECHECK, S.CLOSED): CASE_WORKERS,
    (S.RECHECK, S.TRIAGE): CASE_WORKERS,  # reappeared: reopen
    (S.DISMISSED, S.CLOSED): CASE_WORKERS,
    (S.DISMISSED, S.TRIAGE): frozenset({"verifier"}),  # a second look overturns a dismissal
}

# Moves that the four-eyes rule covers: the actor must differ from whoever moved the case into ``from``.
FOUR_EYES: frozenset[tuple[S, S]] = frozenset({(S.PROPOSED, S.APPROVED)})

# Details a move must carry, and the values they may take.
REQUIRED_DETAILS: dict[tuple[S, S], tuple[str, type[StrEnum]]] = {
    (S.CONFIRMED, S.DECISION): ("decision", Decision),
    (S.RECHECK, S.CLOSED): ("outcome", RecheckOutcome),
    (S.RECHECK, S.TRIAGE): ("outcome", RecheckOutcome),
}

TERMINAL = frozenset({S.CLOSED})

LABELS: dict[str, str] = {
    S.TRIAGE: "Start triage",
    S.CONFIRMED: "Confirm",
    S.DISMISSED: "Dismiss",
    S.DECISION: "Decide",
    S.PROPOSED: "Propose",
    S.APPROVED: "Approve",
    S.SENT: "Mark sent",
    S.ACKNOWLEDGED: "Acknowledged",
    S.REMOVED: "Removed",
    S.REFUSED: "Refused",
    S.NO_RESPONSE: "No response",
    S.RECHECK: "Re-check",
    S.CLOSED: "Close",
}


def next_states(state: S | str) -> list[S]:
    current = S(state)
    return [to for (frm, to) in TRANSITIONS if frm == current]


def allowed_for(state: S | str, role: str) -> list[S]:
    """The states a user with ``role`` may move a case in ``state`` to (before the four-eyes check)."""
    current = S(state)
    return [to for (frm, to), roles in TRANSITIONS.items() if frm == current and role in roles]
