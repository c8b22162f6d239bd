"""The review queue (keyset-paginated, oldest first so the nearest deadline leads) and the case file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, literal, select, tuple_

from vigil.audit import log as audit
from vigil.core.model import Case, CaseState, Item, Severity, Signal, utcnow
from vigil.privacy.mask import mask_identifiers
from vigil.privacy.views import history_row
from vigil.store import Store
from vigil.store.schema import case_events, cases
from vigil.store.store import case_from_row
from vigil.workflow.errors import NotFound, WorkflowError
from vigil.workflow.sla import Deadline, deadlines
from vigil.workflow.sla_config import SlaSettings
from vigil.workflow.states import allowed_for

MAX_PAGE = 200


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode_cursor(case: Case) -> str:
    """``<microseconds since 1970>.<case id>``: exact, and safe in a URL without quoting."""
    micros = (case.opened_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{case.id}"


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    micros, _, ident = cursor.partition(".")
    try:
        return _EPOCH + timedelta(microseconds=int(micros)), int(ident)
    except (ValueError, OverflowError):
        raise WorkflowError(f"bad cursor {cursor[:80]!r}") from None


@dataclass(slots=True)
class Page:
    cases: list[Case]
    next_cursor: str | None


def list_queue(
    store: Store,
    state: str | None = None,
    severity: str | None = None,
    limit: int = 50,
    after: str | None = None,
    where: ColumnElement[bool] | None = None,
) -> Page:
    """One page of cases, oldest first, optionally one state and one severity queue, and ``where`` (a tab:
    ``vigil.workflow.tabs.tab_clause``). A list view: titles (which detectors build from the text) have
    identifiers masked (``vigil.privacy.mask``)."""
    if state is not None and state not in set(CaseState):
        raise WorkflowError(f"unknown state {state!r}")
    if severity is not None and severity not in set(Severity):
        raise WorkflowError(f"unknown severity {severity!r}")
    limit = max(1, min(limit, MAX_PAGE))
    query = select(cases)
    if state:
        query = query.where(cases.c.state == state)
    if severity:
        query = query.where(cases.c.severity == severity)
    if where is not None:
        query = query.where(where)
    if after:
        when, ident = decode_cursor(after)
        query = query.where(
            tuple_(cases.c.opened_at, cases.c.id) > tuple_(literal(when, type_=cases.c.opened_at.type), ident)
        )
    query = query.order_by(cases.c.opened_at, cases.c.id).limit(limit + 1)
    with store.read() as conn:
        found = [case_from_row(r) for r in conn.execute(query).mappings()]
    for case in found:
        case.title = mask_identifiers(case.title)
    more = len(found) > limit
    found = found[:limit]
    return Page(found, encode_cursor(found[-1]) if more and found else None)


@dataclass(slots=True)
class Highlight:
    text: str
    reason: str | None = None


@dataclass(slots=True)
class CaseFile:
    case: Case
    item: Item | None
    signals: list[Signal]
    events: list[dict[str, Any]]
    deadlines: list[Deadline]
    next_states: list[str] = field(default_factory=list)
    proposer: str | None = None

    def highlights(self) -> list[Highlight]:
        """The item's text cut into runs, each run marked with the reason that flagged it (if any)."""
        text = self.item.text if self.item else ""
        spans = sorted(
            (r.start, r.end, f"{s.detector}: {r.text}")
            for s in self.signals
            for r in s.reasons
            if r.start is not None and r.end is not None and 0 <= r.start < r.end <= len(text)
        )
        out: list[Highlight] = []
        pos = 0
        for start, end, why in spans:
            if start < pos:  # overlapping spans: keep the first
                continue
            if start > pos:
                out.append(Highlight(text[pos:start]))
            out.append(Highlight(text[start:end], why))
            pos = end
        if pos < len(text):
            out.append(Highlight(text[pos:]))
        return out

    def matches(self) -> list[dict[str, Any]]:
        """Hash matches that detectors put in their signal's meta (``matches``: hash, distance, ...)."""
        out = []
        for s in self.signals:
            for m in s.meta.get("matches") or []:
                if isinstance(m, dict):
                    out.append({"detector": s.detector, **m})
        return out

    def attributions(self) -> list[dict[str, Any]]:
        out = []
        for s in self.signals:
            outlet = s.meta.get("outlet")
            if outlet:
                out.append(
                    {
                        "detector": s.detector,
                        "outlet": outlet,
                        "confidence": s.meta.get("confidence", s.score),
                    }
                )
        return out

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        now = now or utcnow()
        return {
            "case": self.case.to_dict(),
            "item": _item_dict(self.item),
            "signals": [s.to_dict() for s in self.signals],
            "matches": self.matches(),
            "attributions": self.attributions(),
            "events": self.events,
            "deadlines": [d.to_dict(now) for d in self.deadlines],
            "next_states": self.next_states,
        }


def _item_dict(item: Item | None) -> dict[str, Any] | None:
    if item is None:
        return None
    out = item.to_dict()
    out["account"] = item.account.key if item.account else None
    out["channel"] = item.channel.key if item.channel else None
    return out


def case_events_of(store: Store, case_id: int) -> list[dict[str, Any]]:
    """The case's history as the case file shows it: reasons and notes typed by staff have identifiers
    masked (``vigil.privacy.views.history_row``); ``id`` names the line for an audited reveal."""
    with store.read() as conn:
        rows = conn.execute(
            select(case_events).where(case_events.c.case_id == case_id).order_by(case_events.c.id)
        ).mappings()
        return [
            history_row(
                {
                    "id": r["id"],
                    "from": r["from_state"],
                    "to": r["to_state"],
                    "actor": r["actor"],
                    "reason": r["reason"],
                    "at": r["at"].isoformat(),
                    "meta": r["meta"] or {},
                }
            )
            for r in rows
        ]


def open_case(
    store: Store, case_id: int, actor: str, role: str, sla: SlaSettings, via: str = "api"
) -> CaseFile:
    """Everything a reviewer sees about a case, its clocks timed by ``sla``; the view is audited."""
    case = store.get_case(case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    audit.append(store, actor, "case.view", "case", case_id, {"via": via})
    item = store.get_item(case.item_id)
    events = case_events_of(store, case_id)
    proposer = next(
        (e["actor"] for e in reversed(events) if e["to"] == CaseState.PROPOSED and e["from"] != e["to"]), None
    )
    return CaseFile(
        case=case,
        item=item,
        signals=store.signals_for(case.item_id),
        events=events,
        deadlines=deadlines(case, sla),
        next_states=[str(s) for s in allowed_for(case.state, role)],
        proposer=proposer,
    )
