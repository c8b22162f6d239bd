"""Re-check referred URLs until they are gone: HTTP status, content hash, and whether the page still shows
the item; record removed / still up / geo-blocked / reappeared with timestamps; compute time to removal.
Hosts are rate-limited (a minimum interval between two requests to the same host: the sync face of
``vigil.net.limits.HostLimiter``); pages are fetched with ``vigil.net.hops.HopRecorder``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from vigil.audit.history import note_in
from vigil.audit.log import append_in
from vigil.config import Config
from vigil.core.model import CaseState as S
from vigil.core.model import utcnow
from vigil.evidence.capture import blob_store
from vigil.evidence.marker import shows_marker
from vigil.evidence.page import is_html, main_text, page_text
from vigil.evidence.retention import mark_removed_in
from vigil.evidence.tables import evidence_captures, evidence_parts
from vigil.net.hops import FetchError, HopRecorder
from vigil.net.limits import HostLimiter
from vigil.referral.hashbank import RemovedMediaSink, load_sink
from vigil.referral.tables import recheck_results, watched_urls
from vigil.store import Store
from vigil.workflow.moves import move_or_note

GONE = {404, 410}
# Re-checks are automated; the moves they make (sent/acknowledged -> removed, removed -> recheck) are the
# ones the workflow lets a case worker make, and they are recorded under the re-check's actor name.
RECHECK_ROLE = "analyst"
GEO_BLOCKED = {451}


@dataclass(slots=True)
class Observation:
    http_status: int | None
    content_sha256: str | None
    shows_item: bool | None
    error: str = ""


def classify(previous: str, seen: Observation) -> str:
    """The outcome of one check given the status before it."""
    if seen.error:
        return "removed" if "does not resolve" in seen.error else "error"
    if seen.http_status in GEO_BLOCKED:
        return "geo_blocked"
    if seen.http_status in GONE or not seen.shows_item:
        return "removed"
    return "reappeared" if previous in ("removed", "reappeared") else "up"


@dataclass(slots=True)
class RecheckSummary:
    checked: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    removed: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "outcomes": self.outcomes, "removed": self.removed}


def observe(fetcher: HopRecorder, url: str, baseline: str | None, marker: str, limit: int) -> Observation:
    try:
        final = fetcher.fetch(url).final
    except FetchError as exc:
        return Observation(None, None, None, exc.reason)
    digest = hashlib.sha256(final.body).hexdigest()
    if final.status >= 400:
        return Observation(final.status, digest, False)
    if baseline and digest == baseline:
        return Observation(final.status, digest, True)
    if not marker:
        return Observation(final.status, digest, True)  # nothing to recognise it by: a live page counts as up
    text = main_text(page_text(final, limit)) if is_html(final) else page_text(final, limit)
    return Observation(final.status, digest, shows_marker(marker, text))


def _intervals(config: Config) -> dict[str, timedelta]:
    hours = config.extra.get("recheck_hours") or {}
    return {
        "up": timedelta(hours=float(hours.get("up", 1))),
        "reappeared": timedelta(hours=float(hours.get("up", 1))),
        "geo_blocked": timedelta(hours=float(hours.get("geo_blocked", 6))),
        "error": timedelta(hours=float(hours.get("error", 1))),
        "removed": timedelta(hours=float(hours.get("removed", 24))),
    }


def run_rechecks(
    store: Store,
    config: Config,
    due_only: bool = True,
    now: Callable[[], datetime] = utcnow,
    limiter: HostLimiter | None = None,
    sink: RemovedMediaSink | None = None,
    actor: str = "recheck",
    progress: Callable[[int], None] | None = None,
) -> RecheckSummary:
    limiter = limiter or HostLimiter(1, float(config.extra.get("recheck_host_interval", 2.0)))
    sink = sink or load_sink(store, config)
    intervals = _intervals(config)
    query = select(watched_urls).order_by(watched_urls.c.next_check_at, watched_urls.c.id)
    if due_only:
        query = query.where(or_(watched_urls.c.next_check_at <= now()))
    with store.read() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    summary = RecheckSummary()
    with HopRecorder(config) as fetcher:
        for row in rows:
            limiter.wait(row["host"])
            seen = observe(
                fetcher, row["url"], row["baseline_sha256"], row["marker"] or "", config.max_record_bytes
            )
            at = now()
            outcome = classify(row["status"], seen)
            _record(store, config, row, seen, outcome, at, intervals, sink, actor, summary)
            summary.checked += 1
            summary.outcomes[outcome] = summary.outcomes.get(outcome, 0) + 1
            if progress:
                progress(1)
    return summary


def _record(
    store: Store,
    config: Config,
    row: dict[str, Any],
    seen: Observation,
    outcome: str,
    at: datetime,
    intervals: dict[str, timedelta],
    sink: RemovedMediaSink,
    actor: str,
    summary: RecheckSummary,
) -> None:
    previous = row["status"]
    changes: dict[str, Any] = {
        "status": outcome,
        "last_checked_at": at,
        "next_check_at": at + intervals[outcome],
    }
    newly_removed = outcome == "removed" and previous != "removed"
    if newly_removed and row["removed_at"] is None:
        changes["removed_at"] = at
        changes["time_to_removal_s"] = (at - row["referred_at"]).total_seconds()
    if outcome == "reappeared" and previous == "removed":
        changes["reappeared_at"] = at
    details = {"watch_id": row["id"], "url": row["url"], "http_status": seen.http_status, "outcome": outcome}
    with store.write() as conn:
        conn.execute(
            recheck_results.insert().values(
                watch_id=row["id"],
                at=at,
                http_status=seen.http_status,
                content_sha256=seen.content_sha256,
                shows_item=seen.shows_item,
                outcome=outcome,
                error=seen.error or None,
            )
        )
        conn.execute(watched_urls.update().where(watched_urls.c.id == row["id"]).values(**changes))
        append_in(conn, actor, "referral.recheck", "watch", row["id"], {**details, "error": seen.error})
        if newly_removed:
            details["time_to_removal_s"] = changes.get("time_to_removal_s")
            move_or_note(
                conn, row["case_id"], S.REMOVED, actor, RECHECK_ROLE, "re-check: content removed", details, at
            )
            mark_removed_in(conn, config, row["case_id"], at)
        elif outcome == "reappeared" and previous == "removed":
            move_or_note(
                conn,
                row["case_id"],
                S.RECHECK,
                actor,
                RECHECK_ROLE,
                "re-check: content reappeared",
                details,
                at,
            )
        elif outcome == "geo_blocked" and previous != "geo_blocked":
            note_in(conn, row["case_id"], actor, "re-check: geo-blocked", details, at=at)
        media = (
            conn.execute(
                select(evidence_parts.c.sha256, evidence_parts.c.url, evidence_parts.c.mime)
                .join(evidence_captures, evidence_captures.c.id == evidence_parts.c.capture_id)
                .where(evidence_captures.c.case_id == row["case_id"], evidence_parts.c.role == "media")
            ).all()
            if newly_removed
            else []
        )
    if newly_removed:
        summary.removed.append({**details, "case_id": row["case_id"]})
        blobs = blob_store(config)
        for sha, url, mime in media:
            path = blobs.path(sha)
            sink.add_removed_media(
                sha,
                path if path.exists() else None,
                {
                    "case_id": row["case_id"],
                    "url": url,
                    "page": row["url"],
                    "mime": mime,
                    "removed_at": at.isoformat(),
                },
            )
