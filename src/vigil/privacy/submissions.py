"""De-duplication across submitters: the same URL (normalised) or content hash, reported by any number
of analysts or organisations, is one case with every submitter recorded, not several referrals.

A submission joins, in order: the case that already holds this target; a case whose item has this URL or
this media hash (e.g. one opened by detection); otherwise it opens a new case for a new item.

The normalised URL (``vigil.privacy.urls.normalise_url``: https, no ``www.``, no tracking parameters) is
only the key two spellings are matched by (``case_targets``). What is kept and acted on is the URL as it
was submitted: the new item's ``url`` (what referral documents name and evidence captures fetch) and each
submitter's ``value`` in ``case_submitters``. A URL given without a scheme gets ``https://``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from vigil.audit.log import append_in
from vigil.core.model import CaseState, Severity, make_item_id, utcnow
from vigil.errors import UsageError
from vigil.privacy.dialect import insert
from vigil.privacy.tables import case_submitters, case_targets
from vigil.privacy.urls import normalise_url
from vigil.store import Store
from vigil.store.schema import case_events, cases, item_media, items

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
SOURCE = "submission"
MAX_NAME = 128


@dataclass(frozen=True, slots=True)
class Submitter:
    submitter: str
    org: str
    submitted_at: datetime
    kind: str
    value: str
    note: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "submitter": self.submitter,
            "org": self.org,
            "submitted_at": self.submitted_at.isoformat(),
            "kind": self.kind,
            "value": self.value,
            "note": self.note,
        }


def parse_target(target: str) -> tuple[str, str]:
    """``("sha256", hex)`` or ``("url", normalised)``: the key a target is matched by; ``UsageError`` for
    anything else."""
    text = target.strip()
    if _HEX64.fullmatch(text):
        return "sha256", text.lower()
    return "url", normalise_url(text)


def as_submitted(kind: str, target: str) -> str:
    """What is kept of a target: a hash in lower case; a URL as given (surrounding blanks dropped, and
    ``https://`` before one given without a scheme), never its normalised matching key."""
    text = target.strip()
    if kind == "sha256":
        return text.lower()
    return text if "://" in text else "https://" + text


def submit(
    store: Store,
    target: str,
    submitter: str,
    org: str,
    note: str = "",
    now: datetime | None = None,
) -> tuple[int, bool]:
    """Report ``target`` (a URL or a SHA-256). Returns ``(case_id, created)``; a second report of the same
    target by anyone returns the same case with ``created`` false and adds the submitter."""
    for name, value in (("submitter", submitter), ("org", org)):
        if not value.strip() or len(value) > MAX_NAME:
            raise UsageError(f"{name} must be 1 to {MAX_NAME} characters")
    kind, value = parse_target(target)
    given = as_submitted(kind, target)
    now = now or utcnow()
    with store.write() as conn:
        case_id = _existing(conn, kind, value, given)
        created = False
        if case_id is None:
            case_id, created = _open(conn, kind, value, given, submitter, now)
        conn.execute(
            insert(conn, case_targets)
            .values(kind=kind, value=value, case_id=case_id)
            .on_conflict_do_nothing()
        )
        # Whoever wrote the target first owns it (matters only when two processes race).
        case_id = conn.execute(
            select(case_targets.c.case_id).where(case_targets.c.kind == kind, case_targets.c.value == value)
        ).scalar_one()
        added = conn.execute(
            insert(conn, case_submitters)
            .values(
                case_id=case_id,
                submitter=submitter.strip(),
                org=org.strip(),
                kind=kind,
                value=given,
                note=note or None,
                submitted_at=now,
            )
            .on_conflict_do_nothing()
            .returning(case_submitters.c.id)
        ).first()
        append_in(
            conn,
            submitter.strip(),
            "case.submit",
            "case",
            case_id,
            {"org": org.strip(), "kind": kind, "created": created, "new_submitter": added is not None},
        )
    return case_id, created


def _existing(conn: Connection, kind: str, value: str, raw: str) -> int | None:
    found = conn.execute(
        select(case_targets.c.case_id).where(case_targets.c.kind == kind, case_targets.c.value == value)
    ).scalar()
    if found is not None:
        return int(found)
    if kind == "url":
        query = (
            select(cases.c.id).join(items, items.c.id == cases.c.item_id).where(items.c.url.in_([value, raw]))
        )
    else:
        query = (
            select(cases.c.id)
            .join(item_media, item_media.c.item_id == cases.c.item_id)
            .where(item_media.c.sha256 == value)
        )
    found = conn.execute(query.order_by(cases.c.id).limit(1)).scalar()
    return None if found is None else int(found)


def _open(
    conn: Connection, kind: str, value: str, given: str, submitter: str, now: datetime
) -> tuple[int, bool]:
    """A new item and case for a target: keyed by the normalised ``value`` (so that two spellings racing
    make one item), holding the URL as ``given``."""
    item_id = make_item_id(SOURCE, f"{kind}:{value}")
    conn.execute(
        insert(conn, items)
        .values(
            id=item_id,
            source=SOURCE,
            native_id=f"{kind}:{value}"[:512],
            text="",
            url=given if kind == "url" else None,
            links=[],
            meta={"submitted": kind, **({"sha256": value} if kind == "sha256" else {"match_key": value})},
            ingested_at=now,
        )
        .on_conflict_do_nothing()
    )
    new_id = conn.execute(
        insert(conn, cases)
        .values(
            item_id=item_id,
            state=str(CaseState.NEW),
            severity=str(Severity.OTHER),
            score=0.0,
            title=f"submitted {kind}",
            opened_at=now,
            updated_at=now,
            meta={"submitted": True},
        )
        .on_conflict_do_nothing()
        .returning(cases.c.id)
    ).scalar()
    if new_id is None:
        return int(conn.execute(select(cases.c.id).where(cases.c.item_id == item_id)).scalar_one()), False
    conn.execute(
        case_events.insert().values(
            case_id=new_id,
            from_state=None,
            to_state=str(CaseState.NEW),
            actor=submitter,
            reason="submitted",
            at=now,
            meta={},
        )
    )
    return int(new_id), True


def submitters(store: Store, case_id: int) -> list[Submitter]:
    with store.read() as conn:
        rows = conn.execute(
            select(case_submitters).where(case_submitters.c.case_id == case_id).order_by(case_submitters.c.id)
        ).mappings()
        return [
            Submitter(r["submitter"], r["org"], r["submitted_at"], r["kind"], r["value"], r["note"])
            for r in rows
        ]
