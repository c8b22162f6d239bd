"""Transparency figures for Art. 7/8 reports of Regulation 2021/784: removal orders issued, executed, not
executed and why, complaints, reinstatements; removal rate and time to removal per provider (as the
re-checks saw it, and as the providers' Annex II replies report it); with charts
(matplotlib PNG embedded in one HTML file) and the same figures as JSON."""

from __future__ import annotations

import base64
import html
import io
import json
import statistics
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from vigil.referral.replies import reported_seconds
from vigil.referral.tables import referral_documents, referral_replies, watched_urls
from vigil.store import Store


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 3)


def build_report(store: Store, start: datetime, end: datetime) -> dict[str, Any]:
    with store.read() as conn:
        docs = [
            dict(r)
            for r in conn.execute(
                select(referral_documents).where(
                    referral_documents.c.created_at >= start, referral_documents.c.created_at < end
                )
            ).mappings()
        ]
        ids = [d["id"] for d in docs]
        replies = (
            [
                dict(r)
                for r in conn.execute(
                    select(referral_replies).where(referral_replies.c.document_id.in_(ids))
                ).mappings()
            ]
            if ids
            else []
        )
        watches = (
            [
                dict(r)
                for r in conn.execute(
                    select(watched_urls).where(watched_urls.c.document_id.in_(ids))
                ).mappings()
            ]
            if ids
            else []
        )
        period_replies = [
            dict(r)
            for r in conn.execute(
                select(referral_replies).where(referral_replies.c.at >= start, referral_replies.c.at < end)
            ).mappings()
        ]
    by_doc: dict[int, list[dict[str, Any]]] = {}
    for w in watches:
        by_doc.setdefault(w["document_id"], []).append(w)
    replies_by_doc: dict[int, list[dict[str, Any]]] = {}
    for r in replies:
        replies_by_doc.setdefault(r["document_id"], []).append(r)
    drafts = [d for d in docs if d["status"] == "draft"]
    docs = [d for d in docs if d["status"] != "draft"]  # issued: sent once a second person approved
    orders = [d for d in docs if d["kind"] == "removal_order"]
    executed = 0
    not_executed_reasons: dict[str, int] = {}
    for d in orders:
        kinds = {r["kind"] for r in replies_by_doc.get(d["id"], [])}
        gone = any(w["removed_at"] is not None for w in by_doc.get(d["id"], []))
        if "annex_ii" in kinds or gone:
            executed += 1
            continue
        impossibles = [r for r in replies_by_doc.get(d["id"], []) if r["kind"] == "annex_iii"]
        if impossibles:
            data = impossibles[-1]["data"] or {}
            reason = ", ".join(data.get("reasons") or [data.get("reason") or "unspecified"])
        elif any(w["status"] == "geo_blocked" for w in by_doc.get(d["id"], [])):
            reason = "geo-blocked only"
        else:
            reason = "no confirmation, still online"
        not_executed_reasons[reason] = not_executed_reasons.get(reason, 0) + 1
    providers: dict[str, dict[str, Any]] = {}
    for d in docs:
        p = providers.setdefault(
            d["provider"] or "unknown",
            {
                "documents": 0,
                "urls": 0,
                "removed": 0,
                "still_up": 0,
                "geo_blocked": 0,
                "reappeared": 0,
                "_ttr": [],
                "_reported": [],
            },
        )
        p["documents"] += 1
        reported = [reported_seconds(d, r) for r in replies_by_doc.get(d["id"], [])]
        if any(t is not None for t in reported):
            p["_reported"].append([t for t in reported if t is not None][-1])
        for w in by_doc.get(d["id"], []):
            p["urls"] += 1
            if w["removed_at"] is not None:
                p["removed"] += 1
                if w["time_to_removal_s"] is not None:
                    p["_ttr"].append(float(w["time_to_removal_s"]))
            if w["status"] in ("up", "error"):
                p["still_up"] += 1
            elif w["status"] == "geo_blocked":
                p["geo_blocked"] += 1
            if w["reappeared_at"] is not None:
                p["reappeared"] += 1
    all_ttr: list[float] = []
    for p in providers.values():
        ttr = p.pop("_ttr")
        all_ttr.extend(ttr)
        p["removal_rate"] = round(p["removed"] / p["urls"], 4) if p["urls"] else None
        p["median_hours_to_removal"] = _hours(statistics.median(ttr)) if ttr else None
        p["p95_hours_to_removal"] = _hours(_percentile(ttr, 0.95))
        p["hours_to_removal"] = [_hours(t) for t in sorted(ttr)]
        said = p.pop("_reported")
        p["median_reported_hours_to_removal"] = _hours(statistics.median(said)) if said else None
    urls = sum(p["urls"] for p in providers.values())
    removed = sum(p["removed"] for p in providers.values())
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "removal_orders": {
            "issued": len(orders),
            "executed": executed,
            "not_executed": sum(not_executed_reasons.values()),
            "not_executed_reasons": not_executed_reasons,
            "in_review": sum(1 for d in drafts if d["kind"] == "removal_order"),
        },
        "referrals": {
            "voluntary_referral": sum(1 for d in docs if d["kind"] == "voluntary_referral"),
            "dsa_notice": sum(1 for d in docs if d["kind"] == "dsa_notice"),
        },
        "complaints": sum(1 for r in period_replies if r["kind"] == "complaint"),
        "reinstatements": sum(1 for r in period_replies if r["kind"] == "reinstatement"),
        "urls": urls,
        "removed": removed,
        "removal_rate": round(removed / urls, 4) if urls else None,
        "median_hours_to_removal": _hours(statistics.median(all_ttr)) if all_ttr else None,
        "p95_hours_to_removal": _hours(_percentile(all_ttr, 0.95)),
        "providers": providers,
    }


def _charts(report: dict[str, Any]) -> list[tuple[str, bytes]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts: list[tuple[str, bytes]] = []
    providers = report["providers"]
    names = [n for n, p in providers.items() if p["urls"]]
    if names:
        fig, ax = plt.subplots(figsize=(7, max(2.5, 1.2 + 0.4 * len(names))))
        ax.barh(names, [providers[n]["removal_rate"] * 100 for n in names], color="#3a7")
        ax.set_xlim(0, 100)
        ax.set_xlabel("removed (% of referred URLs)")
        ax.set_title("Removal rate per provider")
        charts.append(("Removal rate per provider", _png(fig, plt)))
    ttr = [(n, providers[n]["hours_to_removal"]) for n in names if providers[n]["hours_to_removal"]]
    if ttr:
        fig, ax = plt.subplots(figsize=(7, max(2.5, 1.2 + 0.5 * len(ttr))))
        for row, (_name, values) in enumerate(ttr):
            ax.scatter(values, [row] * len(values), color="#37a", alpha=0.6, s=18)
            ax.plot([statistics.median(values)] * 2, [row - 0.3, row + 0.3], color="#222", linewidth=2)
        ax.set_yticks(range(len(ttr)), [n for n, _ in ttr])
        ax.set_xlabel("hours from referral to removal")
        ax.axvline(1.0, color="#c33", linestyle="--", linewidth=1)
        ax.set_title("Time to removal (bar: median; dashed: the one-hour deadline)")
        charts.append(("Time to removal per provider", _png(fig, plt)))
    return charts


def _png(fig: Any, plt: Any) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return out.getvalue()


_CSS = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto}"
    "td,th{padding:.2em .6em;border-bottom:1px solid #ddd}"
)


_COLUMNS = (
    "documents",
    "urls",
    "removed",
    "removal_rate",
    "median_hours_to_removal",
    "p95_hours_to_removal",
    "still_up",
    "geo_blocked",
    "reappeared",
)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def render_html(report: dict[str, Any]) -> str:
    e = html.escape
    o = report["removal_orders"]
    rows = "".join(
        "<tr>" + "".join(f"<td>{e(_cell(v))}</td>" for v in (name, *(p[k] for k in _COLUMNS))) + "</tr>"
        for name, p in sorted(report["providers"].items())
    )
    reasons = (
        "".join(f"<li>{e(k)}: {v}</li>" for k, v in sorted(o["not_executed_reasons"].items()))
        or "<li>none</li>"
    )
    charts = "".join(
        f"<figure><img alt='{e(title)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
        f"<figcaption>{e(title)}</figcaption></figure>"
        for title, png in _charts(report)
    )
    period = report["period"]
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Transparency report</title>
<style>{_CSS}</style>
</head><body><h1>Transparency report</h1><p>{e(period["from"])} to {e(period["to"])}</p>
<h2>Removal orders (Regulation 2021/784)</h2><ul><li>issued: {o["issued"]}</li>
<li>executed: {o["executed"]}</li>
<li>not executed: {o["not_executed"]}<ul>{reasons}</ul></li><li>complaints: {report["complaints"]}</li>
<li>reinstatements: {report["reinstatements"]}</li></ul>
<h2>Referrals</h2><ul><li>for voluntary review: {report["referrals"]["voluntary_referral"]}</li>
<li>DSA Art. 16 notices: {report["referrals"]["dsa_notice"]}</li></ul>
<h2>Removal per provider</h2><p>{report["removed"]} of {report["urls"]} referred URLs removed;
median time to removal {report["median_hours_to_removal"]} h,
p95 {report["p95_hours_to_removal"]} h.</p>
<table><tr><th>provider</th><th>documents</th><th>URLs</th><th>removed</th><th>rate</th><th>median h</th>
<th>p95 h</th><th>still up</th><th>geo-blocked</th><th>reappeared</th></tr>{rows}</table>
{charts}</body></html>
"""


def write_report(report: dict[str, Any], out: Path) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=1), "utf-8")
    (out / "report.html").write_text(render_html(report), "utf-8")
    return {"html": str(out / "report.html"), "json": str(out / "report.json")}
