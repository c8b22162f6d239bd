"""Retention by data class. ``run_retention`` deletes what is due, in batches (one transaction each),
skipping anything under a legal hold, and records every batch in the audit log with counts and ids, never
content. Running it twice deletes nothing the second time. The audit log itself is never deleted.

Classes: first whatever feature hooks add (``vigil.retention`` entry points: evidence, six months after
removal, by ``vigil.evidence.retention``), then dismissed cases and confirmed cases (by their last update;
the case goes with its item, events, signals and submitters), raw items that never became a case (by
ingestion time), then orphans: pseudonymised accounts no item refers to, vault entries no item refers to,
media no item links (row and file). Every class honours the same legal holds (``vigil.privacy.holds``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, and_, delete, exists, func, not_, or_, select

from vigil.audit.log import append_in
from vigil.core.model import utcnow
from vigil.privacy.holds import case_held, item_held
from vigil.privacy.settings import RetentionPolicy
from vigil.privacy.tables import identity_refs, identity_vault, legal_holds
from vigil.store import Store
from vigil.store.media import MediaSink
from vigil.store.schema import accounts, cases, item_media, items, media

OPEN_STATES = ("new", "triage")
DISMISSED = "dismissed"


class RetentionHook(Protocol):
    """A feature's own data class (e.g. evidence, six months after removal: ``vigil.evidence.retention``).

    ``due`` returns up to ``limit`` ids (after ``after``, in the hook's order) that are past ``policy`` at
    ``now`` and not under a legal hold (``vigil.privacy.holds``); ``delete`` removes them inside ``conn``
    and returns how many went; ``cleanup`` runs once that transaction has committed (files on disk);
    ``held`` counts what is due but kept by a hold; ``count`` is the class's size for the register."""

    data_class: str

    def retention_days(self, policy: RetentionPolicy) -> int: ...

    def due(
        self, conn: Connection, now: datetime, policy: RetentionPolicy, limit: int, after: str | None = None
    ) -> list[str]: ...

    def delete(self, conn: Connection, ids: Sequence[str], now: datetime, actor: str) -> int: ...

    def cleanup(self, ids: Sequence[str]) -> int: ...

    def held(self, conn: Connection, now: datetime, policy: RetentionPolicy) -> int: ...

    def count(self, conn: Connection) -> int: ...


@dataclass(slots=True)
class ClassResult:
    due: int = 0
    deleted: int = 0
    held: int = 0
    ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"due": self.due, "deleted": self.deleted, "held": self.held, "ids": self.ids}


@dataclass(slots=True)
class RetentionReport:
    now: datetime
    dry_run: bool
    policy: dict[str, Any]
    classes: dict[str, ClassResult] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "dry_run": self.dry_run,
            "policy": self.policy,
            "classes": {k: v.to_dict() for k, v in self.classes.items()},
        }


def run_retention(
    store: Store,
    policy: RetentionPolicy | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
    actor: str = "retention",
    hooks: Sequence[RetentionHook] = (),
    media_dir: Path | None = None,
) -> RetentionReport:
    policy = policy or RetentionPolicy()
    now = now or utcnow()
    report = RetentionReport(now, dry_run, policy.to_dict())
    for hook in hooks:
        report.classes[hook.data_class] = _run_hook(store, hook, policy, now, dry_run, actor)
    cut_dismissed = now - timedelta(days=policy.dismissed_cases_days)
    cut_confirmed = now - timedelta(days=policy.confirmed_cases_days)
    dismissed = and_(cases.c.state == DISMISSED, cases.c.updated_at < cut_dismissed)
    confirmed = and_(cases.c.state.not_in([*OPEN_STATES, DISMISSED]), cases.c.updated_at < cut_confirmed)
    for name, aged in (("dismissed_cases", dismissed), ("confirmed_cases", confirmed)):
        report.classes[name] = _run_cases(store, name, aged, policy, now, dry_run, actor)
    report.classes["raw_items"] = _run_raw_items(store, policy, now, dry_run, actor)
    report.classes.update(_run_orphans(store, policy, now, dry_run, actor, media_dir))
    with store.write() as conn:
        append_in(
            conn,
            actor,
            "retention.run",
            "retention",
            now.isoformat(),
            {
                "dry_run": dry_run,
                "counts": {k: v.deleted if not dry_run else v.due for k, v in report.classes.items()},
            },
        )
    return report


def _batches(
    store: Store,
    query: Any,
    key: Any,
    batch: int,
    dry_run: bool,
    remove: Any,
    audit: Any,
) -> ClassResult:
    """Select due ids in batches ordered by ``key``; delete each batch (unless dry run) and audit it."""
    result = ClassResult()
    last: Any = None
    while True:
        page = query if last is None else query.where(key > last)
        with store.write() as conn:
            rows = list(conn.execute(page.order_by(key).limit(batch)))
            if not rows:
                return result
            ids = [str(r[0]) for r in rows]
            result.due += len(ids)
            result.ids.extend(ids)
            if not dry_run:
                result.deleted += remove(conn, rows)
                audit(conn, ids)
        last = rows[-1][0]


def _run_cases(
    store: Store, name: str, aged: Any, policy: RetentionPolicy, now: datetime, dry_run: bool, actor: str
) -> ClassResult:
    days = policy.dismissed_cases_days if name == "dismissed_cases" else policy.confirmed_cases_days

    def remove(conn: Connection, rows: list[Any]) -> int:
        item_ids = [r[1] for r in rows]
        gone = conn.execute(delete(cases).where(cases.c.id.in_([r[0] for r in rows]))).rowcount
        conn.execute(delete(items).where(items.c.id.in_(item_ids)))
        return int(gone)

    def audit(conn: Connection, ids: list[str]) -> None:
        append_in(conn, actor, "retention.delete", "data_class", name, _details(ids, days, now))

    query = select(cases.c.id, cases.c.item_id).where(aged, not_(case_held()))
    result = _batches(store, query, cases.c.id, policy.batch_size, dry_run, remove, audit)
    result.held = _count(store, select(func.count()).select_from(cases).where(aged, case_held()))
    return result


def _run_raw_items(
    store: Store, policy: RetentionPolicy, now: datetime, dry_run: bool, actor: str
) -> ClassResult:
    cutoff = now - timedelta(days=policy.raw_items_days)
    aged = and_(items.c.ingested_at < cutoff, not_(exists().where(cases.c.item_id == items.c.id)))

    def remove(conn: Connection, rows: list[Any]) -> int:
        return int(conn.execute(delete(items).where(items.c.id.in_([r[0] for r in rows]))).rowcount)

    def audit(conn: Connection, ids: list[str]) -> None:
        details = _details(ids, policy.raw_items_days, now)
        append_in(conn, actor, "retention.delete", "data_class", "raw_items", details)

    query = select(items.c.id).where(aged, not_(item_held()))
    result = _batches(store, query, items.c.id, policy.batch_size, dry_run, remove, audit)
    result.held = _count(store, select(func.count()).select_from(items).where(aged, item_held()))
    return result


def _run_hook(
    store: Store, hook: RetentionHook, policy: RetentionPolicy, now: datetime, dry_run: bool, actor: str
) -> ClassResult:
    result = ClassResult()
    after: str | None = None
    while True:
        with store.write() as conn:
            ids = hook.due(conn, now, policy, policy.batch_size, after)
            if not ids:
                break
            after = ids[-1]
            result.due += len(ids)
            result.ids.extend(ids)
            if dry_run:
                continue
            result.deleted += hook.delete(conn, ids, now, actor)
            details = _details(ids, hook.retention_days(policy), now)
            append_in(conn, actor, "retention.delete", "data_class", hook.data_class, details)
        hook.cleanup(ids)
    with store.read() as conn:
        result.held = hook.held(conn, now, policy)
    return result


def _run_orphans(
    store: Store, policy: RetentionPolicy, now: datetime, dry_run: bool, actor: str, media_dir: Path | None
) -> dict[str, ClassResult]:
    account_hold = exists().where(
        legal_holds.c.lifted_at.is_(None),
        legal_holds.c.target_type == "account",
        legal_holds.c.target_id == accounts.c.key,
    )
    used = exists().where(or_(items.c.account_key == accounts.c.key, items.c.channel_key == accounts.c.key))
    orphan_accounts = select(accounts.c.key).where(not_(used), not_(account_hold))
    stale_refs = not_(exists().where(items.c.id == identity_refs.c.item_id))
    p = identity_vault.c.pseudonym
    named_by_account = exists().where(
        or_(accounts.c.native_id == p, accounts.c.handle == p, accounts.c.display_name == p)
    )
    orphan_vault = select(p).where(
        not_(exists().where(identity_refs.c.pseudonym == p)), not_(named_by_account)
    )
    orphan_media = select(media.c.sha256).where(not_(exists().where(item_media.c.sha256 == media.c.sha256)))
    out: dict[str, ClassResult] = {}
    if not dry_run:
        with store.write() as conn:
            conn.execute(delete(identity_refs).where(stale_refs))
    for name, query, key, table in (
        ("accounts", orphan_accounts, accounts.c.key, accounts),
        ("identity_vault", orphan_vault, identity_vault.c.pseudonym, identity_vault),
        ("media", orphan_media, media.c.sha256, media),
    ):

        def remove(conn: Connection, rows: list[Any], table: Any = table, key: Any = key) -> int:
            return int(conn.execute(delete(table).where(key.in_([r[0] for r in rows]))).rowcount)

        def audit(conn: Connection, ids: list[str], name: str = name) -> None:
            append_in(
                conn,
                actor,
                "retention.delete",
                "data_class",
                name,
                {"count": len(ids), "ids": ids, "orphans": True},
            )

        out[name] = _batches(store, query, key, policy.batch_size, dry_run, remove, audit)
    if not dry_run and out["accounts"].deleted:
        # This process's store remembers which accounts it has written; forget them, as some are gone.
        # (Other processes' stores keep their memory: see docs/privacy.md, "Limits".)
        store._known_accounts.clear()
    if not dry_run and media_dir is not None:
        sink = MediaSink(media_dir)
        for sha in out["media"].ids:
            sink.path_for(sha).unlink(missing_ok=True)
    return out


def _details(ids: list[str], days: int, now: datetime) -> dict[str, Any]:
    return {"count": len(ids), "ids": ids, "retention_days": days, "now": now.isoformat()}


def _count(store: Store, query: Any) -> int:
    with store.read() as conn:
        return int(conn.execute(query).scalar_one())
