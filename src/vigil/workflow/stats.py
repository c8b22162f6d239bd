"""Figures for the dashboard: detections per day by language and by outlet, cases per state, and the
time from sending a referral to the content's removal."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from vigil.core.model import utcnow
from vigil.store import Store
from vigil.store.schema import case_events, cases, items, signals


@dataclass(slots=True)
class Dashboard:
    days: list[str]
    by_language: dict[str, list[int]]
    by_outlet: dict[str, list[int]]
    cases_per_state: dict[str, int]
    removal_hours: list[float]

    def removal_summary(self) -> dict[str, float | int | None]:
        values = sorted(self.removal_hours)
        if not values:
            return {"count": 0, "median_h": None, "p95_h": None}
        return {
            "count": len(values),
            "median_h": round(values[len(values) // 2], 2),
            "p95_h": round(values[min(len(values) - 1, int(len(values) * 0.95))], 2),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "detections_by_language": self.by_language,
            "detections_by_outlet": self.by_outlet,
            "cases_per_state": self.cases_per_state,
            "time_to_removal": self.removal_summary(),
        }


def _top(series: dict[str, Counter[str]], days: list[str], keep: int = 6) -> dict[str, list[int]]:
    totals = Counter({k: sum(v.values()) for k, v in series.items()})
    top = [k for k, _ in totals.most_common(keep)]
    out = {k: [series[k][d] for d in days] for k in top}
    rest = [k for k in series if k not in top]
    if rest:
        out["other"] = [sum(series[k][d] for k in rest) for d in days]
    return out


def dashboard(store: Store, days: int = 14) -> Dashboard:
    today = utcnow().date()
    day_list = [(today - timedelta(days=n)).isoformat() for n in range(days - 1, -1, -1)]
    since = utcnow() - timedelta(days=days)
    by_lang: dict[str, Counter[str]] = defaultdict(Counter)
    by_outlet: dict[str, Counter[str]] = defaultdict(Counter)
    with store.read() as conn:
        rows = conn.execute(
            select(signals.c.created_at, signals.c.meta, items.c.lang)
            .join(items, items.c.id == signals.c.item_id)
            .where(signals.c.created_at >= since, signals.c.score >= signals.c.threshold)
        )
        for created, meta, lang in rows:
            day = created.date().isoformat()
            by_lang[lang or "und"][day] += 1
            by_outlet[str((meta or {}).get("outlet") or "unattributed")][day] += 1
        per_state = {
            state: int(n)
            for state, n in conn.execute(select(cases.c.state, func.count()).group_by(cases.c.state))
        }
        sent: dict[int, Any] = {}
        removal: list[float] = []
        for case_id, to_state, at in conn.execute(
            select(case_events.c.case_id, case_events.c.to_state, case_events.c.at)
            .where(case_events.c.to_state.in_(["sent", "removed"]))
            .order_by(case_events.c.id)
        ):
            if to_state == "sent":
                sent.setdefault(case_id, at)
            elif case_id in sent:
                removal.append((at - sent.pop(case_id)).total_seconds() / 3600)
    return Dashboard(day_list, _top(by_lang, day_list), _top(by_outlet, day_list), per_state, removal)
