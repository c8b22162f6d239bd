"""The store: the repository every part of vigil reads and writes through.

Writes go through one lock per process (SQLite has a single writer; PostgreSQL does not mind).
Ingestion is idempotent: items, media and quarantined records are keyed, so a second scan adds nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any, Protocol

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from vigil.config import Config
from vigil.core.model import (
    Account,
    Case,
    CaseState,
    Item,
    Media,
    Origin,
    Quarantined,
    Severity,
    Signal,
    utcnow,
)
from vigil.store import migrate
from vigil.store.bulk import clip, insert_new, sorted_by
from vigil.store.engine import make_engine
from vigil.store.schema import (
    accounts,
    case_events,
    cases,
    item_media,
    items,
    media,
    quarantine,
    scans,
    signals,
)


class IdentityGuard(Protocol):
    """Called by ``add_items`` inside its write transaction: returns the items as they are to be stored
    (e.g. with pseudonymised accounts) and may write side tables (the identity vault) in ``conn``."""

    def protect(self, conn: Connection, batch: Sequence[Item]) -> list[Item]: ...


class Store:
    def __init__(self, engine: Engine, identities: IdentityGuard | None = None) -> None:
        self.engine = engine
        self.identities = identities
        self._write_lock = threading.Lock()
        # Account keys this process has stored already: skips re-inserting them on every batch.
        self._known_accounts: set[str] = set()

    @classmethod
    def open(
        cls,
        config: Config | None = None,
        url: str | None = None,
        migrate_schema: bool = True,
        identities: IdentityGuard | None = None,
    ) -> Store:
        """The store at ``url`` (default: the configuration's), migrated. ``identities`` is the guard that
        pseudonymises what is stored; ``vigil.boot.open_store`` gives the one the configuration asks for."""
        config = config or Config.load()
        engine = make_engine(url or config.resolved_database_url)
        if migrate_schema:
            migrate.upgrade(engine)
        return cls(engine, identities)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction, serialised within the process."""
        with self._write_lock, self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def _insert(self, table: Any) -> Any:
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        return dialect.insert(table)

    # ---- items -------------------------------------------------------------------------------------

    def add_items(self, batch: Sequence[Item]) -> list[str]:
        """Store items not seen before; return the ids that are new. Accounts and media are upserted."""
        if not batch:
            return []
        now = utcnow()
        unique: dict[str, Item] = {}
        for item in batch:
            unique.setdefault(item.id, item)
        known = self._known_accounts
        with self.write() as conn:
            if self.identities is not None:
                unique = {item.id: item for item in self.identities.protect(conn, list(unique.values()))}
            rows = [_item_row(item, now) for item in unique.values()]
            account_rows = {
                acc.key: _account_row(acc, now)
                for item in unique.values()
                for acc in (item.account, item.channel)
                if acc and acc.key not in known
            }
            if account_rows:
                insert_new(conn, accounts, list(account_rows.values()), "key")
            new_set = set(insert_new(conn, items, rows, "id"))
            new_ids = [item_id for item_id in unique if item_id in new_set]
            media_rows: dict[str, dict[str, Any]] = {}
            link_rows: list[dict[str, Any]] = []
            for item_id in new_ids:
                for m in unique[item_id].media:
                    media_rows.setdefault(m.sha256, _media_row(m, now))
                    link_rows.append({"item_id": item_id, "sha256": m.sha256, "name": m.name, "url": m.url})
            # Key order throughout: concurrent writers of overlapping batches lock rows in one order.
            if media_rows:
                conn.execute(self._insert(media).on_conflict_do_nothing(), sorted_by(media_rows))
            if link_rows:
                link_rows.sort(key=lambda r: (r["item_id"], r["sha256"]))
                conn.execute(self._insert(item_media).on_conflict_do_nothing(), link_rows)
        if len(known) > 200_000:
            known.clear()
        known.update(account_rows)
        return [item_id for item_id in unique if item_id in new_set]

    def get_item(self, item_id: str) -> Item | None:
        with self.read() as conn:
            row = conn.execute(select(items).where(items.c.id == item_id)).mappings().first()
            if row is None:
                return None
            media_rows = conn.execute(
                select(media, item_media.c.name, item_media.c.url)
                .join(item_media, item_media.c.sha256 == media.c.sha256)
                .where(item_media.c.item_id == item_id)
            ).mappings()
            found = [
                Media(r["sha256"], r["mime"], r["size"], name=r["name"], url=r["url"], kind=r["kind"])
                for r in media_rows
            ]
            acc = {
                r["key"]: r
                for r in conn.execute(
                    select(accounts).where(accounts.c.key.in_([row["account_key"], row["channel_key"]]))
                ).mappings()
            }
        return _row_item(row, found, acc)

    def count(self, table: str) -> int:
        target = {
            "items": items,
            "cases": cases,
            "signals": signals,
            "quarantine": quarantine,
            "media": media,
        }[table]
        with self.read() as conn:
            return int(conn.execute(select(func.count()).select_from(target)).scalar_one())

    def iter_items(self, batch_size: int = 1000) -> Iterator[Item]:
        last = ""
        while True:
            with self.read() as conn:
                ids = list(
                    conn.execute(
                        select(items.c.id).where(items.c.id > last).order_by(items.c.id).limit(batch_size)
                    ).scalars()
                )
            if not ids:
                return
            for item_id in ids:
                item = self.get_item(item_id)
                if item is not None:
                    yield item
            last = ids[-1]

    # ---- signals and cases -------------------------------------------------------------------------

    def add_signals(self, found: Iterable[Signal]) -> int:
        """Store signals (one per item and detector: a later one replaces the earlier)."""
        rows = _signal_rows(found)
        if rows:
            with self.write() as conn:
                self._upsert_signals(conn, rows)
        return len(rows)

    def _upsert_signals(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        stmt = self._insert(signals)
        stmt = stmt.on_conflict_do_update(
            index_elements=["item_id", "detector"],
            set_={
                k: stmt.excluded[k]
                for k in ("score", "threshold", "reasons", "version", "meta", "created_at")
            },
        )
        conn.execute(stmt, rows)

    def undetected(self, item_ids: Sequence[str]) -> set[str]:
        """Of ``item_ids``, those stored whose detection has not been stored yet."""
        ids = sorted(set(item_ids))
        found: set[str] = set()
        with self.read() as conn:
            for start in range(0, len(ids), 1000):
                chunk = ids[start : start + 1000]
                query = select(items.c.id).where(items.c.id.in_(chunk), items.c.detected_at.is_(None))
                found.update(conn.execute(query).scalars())
        return found

    def record_detections(
        self,
        item_ids: Sequence[str],
        found: Sequence[Signal],
        new_cases: Sequence[Case],
        actor: str = "system",
        langs: Mapping[str, str] | None = None,
    ) -> list[int]:
        """In one transaction: the signals of ``item_ids``, their cases (one per item; an item that has a
        case keeps it) and the mark that they are detected. Returns the new case ids. Doing it twice (a
        redelivered message, a rescan after a crash) changes nothing."""
        rows = _signal_rows(found)
        with self.write() as conn:
            if rows:
                self._upsert_signals(conn, rows)
            opened = self._open_cases_in(conn, new_cases, actor)
            for item_id, lang in sorted((langs or {}).items()):
                conn.execute(
                    items.update().where(items.c.id == item_id, items.c.lang.is_(None)).values(lang=lang[:16])
                )
            ids = sorted(set(item_ids))
            now = utcnow()
            for start in range(0, len(ids), 1000):
                chunk = ids[start : start + 1000]
                conn.execute(items.update().where(items.c.id.in_(chunk)).values(detected_at=now))
        return opened

    def signals_for(self, item_id: str) -> list[Signal]:
        with self.read() as conn:
            rows = conn.execute(
                select(signals).where(signals.c.item_id == item_id).order_by(signals.c.id)
            ).mappings()
            return [
                Signal.from_dict(
                    {
                        k: r[k]
                        for k in ("item_id", "detector", "score", "threshold", "reasons", "version", "meta")
                    }
                )
                for r in rows
            ]

    def open_cases(self, new_cases: Sequence[Case], actor: str = "system") -> list[int]:
        """Open one case per item (an item that has a case already keeps it); return the new case ids."""
        if not new_cases:
            return []
        with self.write() as conn:
            return self._open_cases_in(conn, new_cases, actor)

    def _open_cases_in(self, conn: Connection, new_cases: Sequence[Case], actor: str) -> list[int]:
        now = utcnow()
        opened: list[int] = []
        for case in new_cases:
            row = {
                "item_id": case.item_id,
                "state": str(case.state),
                "severity": str(case.severity),
                "score": case.score,
                "title": case.title,
                "opened_at": case.opened_at,
                "updated_at": case.updated_at,
                "meta": case.meta,
            }
            stmt = self._insert(cases).values(row).on_conflict_do_nothing().returning(cases.c.id)
            case_id = conn.execute(stmt).scalar()
            if case_id is None:
                continue
            opened.append(case_id)
            conn.execute(
                case_events.insert().values(
                    case_id=case_id,
                    from_state=None,
                    to_state=str(case.state),
                    actor=actor,
                    reason="opened by detection",
                    at=now,
                    meta={},
                )
            )
        return opened

    def get_case(self, case_id: int) -> Case | None:
        with self.read() as conn:
            row = conn.execute(select(cases).where(cases.c.id == case_id)).mappings().first()
        return case_from_row(row) if row else None

    def list_cases(
        self, state: str | None = None, severity: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[Case]:
        query = select(cases)
        if state:
            query = query.where(cases.c.state == state)
        if severity:
            query = query.where(cases.c.severity == severity)
        query = query.order_by(cases.c.opened_at.desc(), cases.c.id.desc()).limit(limit).offset(offset)
        with self.read() as conn:
            return [case_from_row(r) for r in conn.execute(query).mappings()]

    # ---- quarantine and scans ----------------------------------------------------------------------

    def add_quarantined(self, records: Sequence[Quarantined]) -> int:
        """Keep bad records with their reason; the same (source, location) is kept once. Returns new ones."""
        if not records:
            return 0
        now = utcnow()
        rows = {(q.source, q.location): clip(quarantine, {**q.to_dict(), "created_at": now}) for q in records}
        with self.write() as conn:
            stmt = self._insert(quarantine).on_conflict_do_nothing().returning(quarantine.c.id)
            return len(list(conn.execute(stmt, sorted_by(rows))))

    def list_quarantined(self, limit: int = 100) -> list[Quarantined]:
        with self.read() as conn:
            rows = conn.execute(select(quarantine).order_by(quarantine.c.id).limit(limit)).mappings()
            return [Quarantined(r["source"], r["location"], r["reason"], r["excerpt"] or "") for r in rows]

    def start_scan(self, target: str, started: Any) -> int:
        """Record a scan as it starts (``finished_at`` empty until ``finish_scan``); returns its id."""
        with self.write() as conn:
            stmt = scans.insert().values(target=target, started_at=started).returning(scans.c.id)
            return int(conn.execute(stmt).scalar_one())

    def finish_scan(self, scan_id: int, summary: dict[str, Any]) -> None:
        with self.write() as conn:
            conn.execute(
                scans.update().where(scans.c.id == scan_id).values(finished_at=utcnow(), summary=summary)
            )


def _signal_rows(found: Iterable[Signal]) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {
            "item_id": s.item_id,
            "detector": s.detector,
            "score": float(s.score),
            "threshold": float(s.threshold),
            "reasons": [asdict(r) for r in s.reasons],
            "version": s.version,
            "meta": s.meta,
            "created_at": now,
        }
        for s in found
    ]


def _item_row(item: Item, now: Any) -> dict[str, Any]:
    origin = item.origin or Origin("")
    return {
        "id": item.id,
        "source": item.source,
        "native_id": item.native_id,
        "text": item.text,
        "html": item.html,
        "url": item.url,
        "account_key": item.account.key if item.account else None,
        "channel_key": item.channel.key if item.channel else None,
        "published": item.published,
        "lang": item.lang,
        "reply_to": item.reply_to,
        "forwarded_from": item.forwarded_from,
        "origin_source": origin.source,
        "origin_location": origin.location,
        "links": item.links,
        "meta": item.meta,
        "ingested_at": now,
    }


def _account_row(acc: Account, now: Any) -> dict[str, Any]:
    return {
        "key": acc.key,
        "platform": acc.platform,
        "native_id": acc.native_id,
        "handle": acc.handle,
        "display_name": acc.display_name,
        "is_channel": acc.is_channel,
        "first_seen": now,
    }


def _media_row(m: Media, now: Any) -> dict[str, Any]:
    return {"sha256": m.sha256, "mime": m.mime, "size": m.size, "kind": m.kind, "first_seen": now}


def _row_account(row: Any) -> Account:
    return Account(
        row["platform"], row["native_id"], row["handle"], row["display_name"], bool(row["is_channel"])
    )


def _row_item(row: Any, found_media: list[Media], acc: dict[str, Any]) -> Item:
    return Item(
        id=row["id"],
        source=row["source"],
        text=row["text"],
        native_id=row["native_id"],
        html=row["html"],
        url=row["url"],
        account=_row_account(acc[row["account_key"]]) if row["account_key"] in acc else None,
        channel=_row_account(acc[row["channel_key"]]) if row["channel_key"] in acc else None,
        published=row["published"],
        lang=row["lang"],
        media=found_media,
        links=list(row["links"] or []),
        reply_to=row["reply_to"],
        forwarded_from=row["forwarded_from"],
        origin=Origin(row["origin_source"] or "", row["origin_location"] or "", row["source"]),
        meta=dict(row["meta"] or {}),
    )


def case_from_row(row: Any) -> Case:
    return Case(
        id=row["id"],
        item_id=row["item_id"],
        state=CaseState(row["state"]),
        severity=Severity(row["severity"]),
        score=row["score"],
        title=row["title"] or "",
        opened_at=row["opened_at"],
        updated_at=row["updated_at"],
        meta=dict(row["meta"] or {}),
    )
