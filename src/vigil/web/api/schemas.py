"""Request and response bodies of the API (pydantic: anything else gets a 422 with the place)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vigil.core.model import Case, CaseState, Severity
from vigil.workflow.sla import next_deadline
from vigil.workflow.sla_config import SlaSettings
from vigil.workflow.states import Decision, RecheckOutcome


class ErrorOut(BaseModel):
    error: str
    reason: str


class DeadlineOut(BaseModel):
    name: str
    due: datetime
    seconds_left: int
    overdue: bool


class CaseSummary(BaseModel):
    id: int
    item_id: str
    state: CaseState
    severity: Severity
    score: float
    title: str
    opened_at: datetime
    updated_at: datetime
    deadline: DeadlineOut | None = None

    @staticmethod
    def row(case: Case, now: datetime, sla: SlaSettings) -> dict[str, Any]:
        """The same fields as plain JSON values: the queue builds thousands of these, so it skips
        re-validating what the store already typed."""
        due = next_deadline(case, sla)
        return {
            "id": case.id,
            "item_id": case.item_id,
            "state": str(case.state),
            "severity": str(case.severity),
            "score": case.score,
            "title": case.title,
            "opened_at": case.opened_at.isoformat(),
            "updated_at": case.updated_at.isoformat(),
            "deadline": due.to_dict(now) if due else None,
        }

    @classmethod
    def of(cls, case: Case, now: datetime, sla: SlaSettings) -> CaseSummary:
        due = next_deadline(case, sla)
        return cls(
            id=case.id or 0,
            item_id=case.item_id,
            state=case.state,
            severity=case.severity,
            score=case.score,
            title=case.title,
            opened_at=case.opened_at,
            updated_at=case.updated_at,
            deadline=DeadlineOut(**due.to_dict(now)) if due else None,
        )


class CasePage(BaseModel):
    cases: list[CaseSummary]
    next_cursor: str | None = Field(None, description="pass as ?after= for the next page")


class TabOut(BaseModel):
    key: str
    label: str
    count: int


class TabCounts(BaseModel):
    tabs: list[TabOut]
    sla: dict[str, Any] = Field(description="the review SLAs in force ([workflow.sla] in config.toml)")


class CaseDetail(BaseModel):
    case: dict[str, Any]
    item: dict[str, Any] | None
    signals: list[dict[str, Any]]
    matches: list[dict[str, Any]]
    attributions: list[dict[str, Any]]
    events: list[dict[str, Any]]
    deadlines: list[DeadlineOut]
    next_states: list[str]


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: CaseState
    reason: str = Field(min_length=1, max_length=4000)
    decision: Decision | None = None
    outcome: RecheckOutcome | None = None
    cross_border: bool | None = None
    complaint: bool = False

    def details(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.decision is not None:
            out["decision"] = str(self.decision)
        if self.outcome is not None:
            out["outcome"] = str(self.outcome)
        if self.cross_border is not None:
            out["cross_border"] = self.cross_border
        if self.complaint:
            out["complaint"] = True
        return out


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target_type: str | None
    target_id: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    first_broken: int | None
    reason: str
