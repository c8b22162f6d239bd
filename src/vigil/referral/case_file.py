"""Everything evidence and takedown hold about one case, as plain JSON values: the evidence captures (who,
when, the hash of every part), the documents drafted and sent, their deliveries and the provider's replies,
the watched URLs with each re-check, and the time to removal: as the re-checks saw it, and as the provider's
Annex II reports it. The case page and the API show this."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from vigil.evidence.tables import evidence_captures, evidence_parts
from vigil.referral.replies import reported_seconds
from vigil.referral.tables import (
    recheck_results,
    referral_deliveries,
    referral_documents,
    referral_replies,
    watched_urls,
)
from vigil.store import Store

MAX_ROWS = 500  # per list: a case with more shows the latest ones


def _plain(row: Any, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in dict(row).items() if k not in drop}


def _rows(conn: Connection, query: Any) -> list[dict[str, Any]]:
    return [_plain(r) for r in conn.execute(query.limit(MAX_ROWS)).mappings()]


def _captures(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    captures = [
        _plain(r, ("details",))
        for r in conn.execute(
            select(evidence_captures)
            .where(evidence_captures.c.case_id == case_id)
            .order_by(evidence_captures.c.id.desc())
            .limit(MAX_ROWS)
        ).mappings()
    ]
    ids = [c["id"] for c in captures]
    parts: dict[int, list[dict[str, Any]]] = {}
    if ids:
        query = (
            select(evidence_parts)
            .where(evidence_parts.c.capture_id.in_(ids))
            .order_by(evidence_parts.c.capture_id, evidence_parts.c.id)
        )
        for part in conn.execute(query).mappings():
            parts.setdefault(part["capture_id"], []).append(_plain(part, ("capture_id", "id")))
    return [{**c, "parts": parts.get(c["id"], [])} for c in captures]


def _documents(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    docs = _rows(
        conn,
        select(referral_documents)
        .where(referral_documents.c.case_id == case_id)
        .order_by(referral_documents.c.id.desc()),
    )
    ids = [d["id"] for d in docs]
    deliveries: dict[int, list[dict[str, Any]]] = {}
    replies: dict[int, list[dict[str, Any]]] = {}
    if ids:
        for row in _rows(
            conn,
            select(referral_deliveries)
            .where(referral_deliveries.c.document_id.in_(ids))
            .order_by(referral_deliveries.c.id),
        ):
            deliveries.setdefault(row["document_id"], []).append(row)
        for row in _rows(
            conn,
            select(referral_replies)
            .where(referral_replies.c.document_id.in_(ids))
            .order_by(referral_replies.c.id),
        ):
            replies.setdefault(row["document_id"], []).append(row)
    return [
        {
            **{k: v for k, v in d.items() if k != "body"},
            "deliveries": deliveries.get(d["id"], []),
            "replies": replies.get(d["id"], []),
        }
        for d in docs
    ]


def _watches(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    watches = _rows(
        conn, select(watched_urls).where(watched_urls.c.case_id == case_id).order_by(watched_urls.c.id)
    )
    ids = [w["id"] for w in watches]
    checks: dict[int, list[dict[str, Any]]] = {}
    if ids:
        for row in _rows(
            conn,
            select(recheck_results)
            .where(recheck_results.c.watch_id.in_(ids))
            .order_by(recheck_results.c.id.desc()),
        ):
            checks.setdefault(row["watch_id"], []).append(row)
    return [{**w, "checks": checks.get(w["id"], [])} for w in watches]


def time_to_removal(watches: list[dict[str, Any]]) -> float | None:
    """Seconds from referral until the last of the case's referred URLs was seen removed; None while any is
    still up (or nothing was referred)."""
    times = [w["time_to_removal_s"] for w in watches]
    if not times or any(t is None for t in times):
        return None
    return float(max(times))


def reported_time_to_removal(documents: list[dict[str, Any]]) -> float | None:
    """Seconds from delivery to removal as the providers' Annex II replies report it (the latest of the
    case's orders); None without such a reply."""
    times = [t for d in documents for r in d["replies"] if (t := reported_seconds(d, r)) is not None]
    return max(times) if times else None


def takedown_file(store: Store, case_id: int) -> dict[str, Any]:
    with store.read() as conn:
        captures = _captures(conn, case_id)
        documents = _documents(conn, case_id)
        watches = _watches(conn, case_id)
    return {
        "case_id": case_id,
        "captures": captures,
        "documents": documents,
        "watches": watches,
        "time_to_removal_s": time_to_removal(watches),
        "reported_time_to_removal_s": reported_time_to_removal(documents),
    }
