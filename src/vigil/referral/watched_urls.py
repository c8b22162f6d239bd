"""The list of referred URLs that re-checks watch until they are gone."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, select

from vigil.evidence.tables import evidence_captures
from vigil.referral.tables import watched_urls


def watch_in(
    conn: Connection,
    case_id: int,
    url: str,
    referred_at: datetime,
    document_id: int | None = None,
    provider: str = "",
    marker: str = "",
) -> int:
    """Start watching ``url`` (once per case and URL); returns the watch id."""
    existing = conn.execute(
        select(watched_urls.c.id).where(watched_urls.c.case_id == case_id, watched_urls.c.url == url)
    ).scalar()
    if existing is not None:
        return int(existing)
    latest = conn.execute(
        select(evidence_captures.c.content_sha256, evidence_captures.c.details)
        .where(evidence_captures.c.case_id == case_id, evidence_captures.c.url == url)
        .order_by(evidence_captures.c.id.desc())
        .limit(1)
    ).first()
    baseline = latest[0] if latest else None
    marker = marker or str(((latest[1] if latest else None) or {}).get("marker") or "")
    return int(
        conn.execute(
            watched_urls.insert()
            .values(
                case_id=case_id,
                document_id=document_id,
                url=url,
                host=(urlsplit(url).hostname or "").lower(),
                provider=provider,
                status="up",
                baseline_sha256=baseline,
                marker=marker,
                referred_at=referred_at,
                next_check_at=referred_at,
            )
            .returning(watched_urls.c.id)
        ).scalar_one()
    )


def recheck_due_in(conn: Connection, document_id: int, at: datetime) -> int:
    """Make the next re-check of the document's URLs not yet seen removed due at ``at`` (an Annex II says
    they are gone: see for ourselves). Returns how many."""
    result = conn.execute(
        watched_urls.update()
        .where(watched_urls.c.document_id == document_id, watched_urls.c.removed_at.is_(None))
        .values(next_check_at=at)
    )
    return int(result.rowcount or 0)


def watches(conn: Connection, case_id: int | None = None) -> list[dict[str, Any]]:
    query = select(watched_urls).order_by(watched_urls.c.id)
    if case_id is not None:
        query = query.where(watched_urls.c.case_id == case_id)
    return [dict(r) for r in conn.execute(query).mappings()]
