"""The one way a case changes state: ``transition(store, case_id, to, actor, role, reason, **details)``.

It checks the move against the state machine and the actor's role, applies the four-eyes rule, runs the
pre-transition checks (plug-ins in the ``vigil.transition_checks`` entry-point group, or ``checks=`` given
by the caller), then in ONE transaction moves the case (compare-and-set on its state), records who, when
and why in ``case_events`` and appends to the audit log. A refused move is audited too.

A pre-transition check is any callable ``check(store, request) -> str | None``: it returns a reason to
block (e.g. a de-confliction "do not refer" gate) or ``None`` to let the move go ahead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, FromClause, Select, and_, or_, select, update

from vigil.audit import log as audit
from vigil.core.model import Case, CaseState, utcnow
from vigil.core.registry import TRANSITION_CHECKS, named
from vigil.store import Store
from vigil.store.schema import case_events, cases
from vigil.store.store import case_from_row
from vigil.workflow.errors import Forbidden, InvalidTransition, NotFound, TransitionBlocked, WorkflowError
from vigil.workflow.states import FOUR_EYES, REQUIRED_DETAILS, TRANSITIONS

MAX_REASON = 4000


@dataclass(slots=True, frozen=True)
class TransitionRequest:
    case: Case
    to: CaseState
    actor: str
    role: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def move(self) -> tuple[CaseState, CaseState]:
        return (CaseState(self.case.state), self.to)


Check = Callable[[Store, TransitionRequest], "str | None"]


@cache
def registered_checks() -> tuple[Check, ...]:
    """Pre-transition checks that installed packages register under ``vigil.transition_checks``."""
    return tuple(named(TRANSITION_CHECKS))


def _state(value: str | CaseState) -> CaseState:
    try:
        return CaseState(value)
    except ValueError:
        raise InvalidTransition(f"unknown state {value!r}") from None


def _meta_after(case: Case, to: CaseState, details: dict[str, Any], now_iso: str) -> dict[str, Any]:
    meta = dict(case.meta)
    meta["state_since"] = now_iso
    if to == CaseState.DECISION and "decision" in details:
        meta["decision"] = details["decision"]
    if to == CaseState.SENT:
        meta["sent_at"] = now_iso
    if "cross_border" in details:
        meta["cross_border"] = bool(details["cross_border"])
    if details.get("complaint"):
        meta["complaint_at"] = now_iso
    if "outcome" in details:
        meta["recheck_outcome"] = details["outcome"]
    return meta


def check_move(case: Case, to: CaseState, role: str, details: dict[str, Any]) -> None:
    """Raise unless ``role`` may move ``case`` to ``to`` with these details (the four-eyes rule aside)."""
    move = (CaseState(case.state), to)
    roles = TRANSITIONS.get(move)
    if roles is None:
        raise InvalidTransition(f"a case in state {case.state!s} cannot move to {to!s}")
    if role not in roles:
        raise Forbidden(f"role {role!r} may not move a case from {case.state!s} to {to!s}")
    needed = REQUIRED_DETAILS.get(move)
    if needed:
        key, kind = needed
        value = details.get(key)
        if value not in {str(v) for v in kind}:
            choices = ", ".join(str(v) for v in kind)
            raise WorkflowError(f"moving to {to!s} needs {key!r}, one of: {choices}")


def mover_query(case_id: Any, state: CaseState) -> Select[tuple[str]]:
    """Who moved the case into ``state`` last (``case_id`` a number or a column, for a correlated
    subquery). Notes (history rows that leave the state as it was) do not count: a note by someone else
    after the proposal must not open the four-eyes rule to the proposer."""
    return (
        select(case_events.c.actor)
        .where(case_events.c.case_id == case_id, moved_into(case_events, state))
        .order_by(case_events.c.id.desc())
        .limit(1)
    )


def moved_into(events: FromClause, state: CaseState) -> ColumnElement[bool]:
    """A history row (of ``case_events`` or an alias of it) that moved a case into ``state``: not a note."""
    return and_(
        events.c.to_state == str(state),
        or_(events.c.from_state.is_(None), events.c.from_state != events.c.to_state),
    )


def _proposer(conn: Any, case_id: int, state: CaseState) -> str | None:
    return conn.execute(mover_query(case_id, state)).scalar()


def _refuse(store: Store, case_id: int, to: str, actor: str, role: str, why: str) -> None:
    audit.append(
        store, actor, "case.transition_refused", "case", case_id, {"to": to, "role": role, "why": why}
    )


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("a transition needs a reason")
    if len(reason) > MAX_REASON:
        raise WorkflowError(f"reason longer than {MAX_REASON} characters")
    return reason


def _run_checks(store: Store | None, request: TransitionRequest, checks: Sequence[Check]) -> None:
    for check in checks:
        blocked = check(store, request)  # type: ignore[arg-type]
        if blocked:
            raise TransitionBlocked(str(blocked))


def preflight(
    store: Store,
    case_id: int,
    to: str | CaseState,
    actor: str,
    role: str,
    reason: str,
    *,
    checks: Sequence[Check] | None = None,
    stay: bool = False,
    **details: Any,
) -> TransitionRequest:
    """What ``transition`` checks before it writes, on its own; a refusal is audited and raised.

    For a caller that then makes the move with ``transition_in`` inside its own write transaction, where
    checks that write (the do-not-refer gate notifies and audits) cannot run. With ``stay=True`` the case
    is not going anywhere: only the checks run, as if for a move to ``to`` (e.g. a further copy of an
    order already sent must clear the same gate as the first); the caller checks the role."""
    reason = _clean_reason(reason)
    case = store.get_case(case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    target = _state(to)
    request = TransitionRequest(case, target, actor, role, reason, dict(details))
    try:
        if not stay:
            check_move(case, target, role, details)
        _run_checks(store, request, registered_checks() if checks is None else checks)
    except (Forbidden, TransitionBlocked) as exc:
        _refuse(store, case_id, str(target), actor, role, str(exc))
        raise
    return request


def transition(
    store: Store,
    case_id: int,
    to: str | CaseState,
    actor: str,
    role: str,
    reason: str,
    *,
    checks: Sequence[Check] | None = None,
    **details: Any,
) -> Case:
    """Move a case to ``to``; returns the case as it is afterwards. Raises a ``WorkflowError`` subclass."""
    request = preflight(store, case_id, to, actor, role, reason, checks=checks, **details)
    case, target = request.case, request.to
    now = utcnow()
    meta = _meta_after(case, target, details, now.isoformat())
    try:
        with store.write() as conn:
            _apply(conn, request, now, meta)
    except Forbidden as exc:
        _refuse(store, case_id, str(target), actor, role, str(exc))
        raise
    case.state, case.updated_at, case.meta = target, now, meta
    return case


def transition_in(
    conn: Connection,
    case_id: int,
    to: str | CaseState,
    actor: str,
    role: str,
    reason: str,
    *,
    store: Store | None = None,
    checks: Sequence[Check] | None = None,
    **details: Any,
) -> Case:
    """``transition`` inside a write transaction the caller holds (so a delivery and the case's move commit
    together). Same rules; a refusal raises and the caller's transaction rolls back, so it is not audited
    here. Checks receive ``store`` (may be ``None``) and must not write."""
    reason = _clean_reason(reason)
    row = conn.execute(select(cases).where(cases.c.id == case_id)).mappings().first()
    if row is None:
        raise NotFound(f"no case {case_id}")
    case = case_from_row(row)
    target = _state(to)
    request = TransitionRequest(case, target, actor, role, reason, dict(details))
    check_move(case, target, role, details)
    _run_checks(store, request, registered_checks() if checks is None else checks)
    now = utcnow()
    meta = _meta_after(case, target, details, now.isoformat())
    _apply(conn, request, now, meta)
    case.state, case.updated_at, case.meta = target, now, meta
    return case


def _apply(conn: Any, request: TransitionRequest, now: Any, meta: dict[str, Any]) -> None:
    case, target, actor, role = request.case, request.to, request.actor, request.role
    case_id = int(case.id or 0)
    if request.move in FOUR_EYES and _proposer(conn, case_id, CaseState(case.state)) == actor:
        raise Forbidden(f"four eyes: {actor} moved this case to {case.state!s} and cannot also approve it")
    moved = conn.execute(
        update(cases)
        .where(cases.c.id == case_id, cases.c.state == str(case.state))
        .values(state=str(target), updated_at=now, meta=meta)
    ).rowcount
    if moved != 1:
        raise InvalidTransition(f"case {case_id} changed state meanwhile; reload and try again")
    conn.execute(
        case_events.insert().values(
            case_id=case_id,
            from_state=str(case.state),
            to_state=str(target),
            actor=actor,
            reason=request.reason,
            at=now,
            meta={"role": role, **request.details},
        )
    )
    audit.append_in(
        conn,
        actor,
        "case.transition",
        "case",
        case_id,
        {
            "from": str(case.state),
            "to": str(target),
            "role": role,
            "reason": request.reason,
            **request.details,
        },
    )
