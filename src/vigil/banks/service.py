"""Banks in the store: create, list, add, import, export, enable/disable entries. Every change bumps the
bank's ``version``, goes to the audit log, and reaches the bank's index at once (incrementally)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, select

from vigil.audit.log import append_in
from vigil.banks.index import PDQIndex, TLSHIndex
from vigil.banks.load import EntryLoader, chunks
from vigil.banks.model import DEFAULT_THRESHOLD, Bank, Entry, NewEntry
from vigil.banks.pdqindex import MAX_RADIUS, hex_to_words
from vigil.banks.tables import bank_entries, banks
from vigil.banks.tlshindex import digest_rows
from vigil.config import Config
from vigil.core.model import utcnow
from vigil.errors import UsageError
from vigil.store import Store

READ_BATCH = 5000
# Signal types with an index (vpdq: one row per distinct frame hash): its class and how values become rows.
INDEXES: dict[str, tuple[type[PDQIndex], Callable[[list[str]], Any]]] = {
    "pdq": (PDQIndex, hex_to_words),
    "vpdq": (PDQIndex, hex_to_words),
    "tlsh": (TLSHIndex, digest_rows),
}
INDEXED = tuple(INDEXES)


def _bank(row: Any, entries: int = 0) -> Bank:
    return Bank(
        row["id"],
        row["name"],
        row["threshold"],
        bool(row["negative"]),
        bool(row["enabled"]),
        row["description"] or "",
        row["version"],
        entries,
    )


def _entry(row: Any, bank_name: str) -> Entry:
    return Entry(
        row["id"],
        bank_name,
        row["signal_type"],
        row["value"],
        dict(row["meta"] or {}),
        row["source"],
        row["source_id"],
        row["first_seen"],
        bool(row["enabled"]),
        bool(row["quarantined"]),
        row["review_reason"],
        row["match_count"],
    )


class BankService:
    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.config = config
        url = store.engine.url.render_as_string(hide_password=True)
        self.index_root = config.home / "index" / hashlib.sha256(url.encode()).hexdigest()[:12]

    # ---- banks --------------------------------------------------------------------------------------

    def create(
        self,
        name: str,
        threshold: int = DEFAULT_THRESHOLD,
        negative: bool = False,
        description: str = "",
        actor: str = "cli",
    ) -> Bank:
        if not name or len(name) > 128 or not name.replace("-", "").replace("_", "").isalnum():
            raise UsageError(f"bank name {name!r}: use 1-128 letters, digits, '-' or '_'")
        if not 0 <= threshold <= MAX_RADIUS:
            raise UsageError(f"threshold must be between 0 and {MAX_RADIUS}")
        now = utcnow()
        with self.store.write() as conn:
            if conn.execute(select(banks.c.id).where(banks.c.name == name)).first():
                raise UsageError(f"bank {name!r} exists already")
            bank_id = conn.execute(
                banks.insert()
                .values(
                    name=name,
                    threshold=threshold,
                    negative=negative,
                    enabled=True,
                    description=description,
                    version=0,
                    created_at=now,
                    updated_at=now,
                )
                .returning(banks.c.id)
            ).scalar_one()
            append_in(
                conn,
                actor,
                "bank.create",
                "bank",
                bank_id,
                {"name": name, "threshold": threshold, "negative": negative},
            )
        return self.get(name)

    def get(self, name: str) -> Bank:
        with self.store.read() as conn:
            row = conn.execute(select(banks).where(banks.c.name == name)).mappings().first()
            if row is None:
                raise UsageError(f"no bank named {name!r}")
            count = conn.execute(
                select(func.count()).select_from(bank_entries).where(bank_entries.c.bank_id == row["id"])
            ).scalar_one()
        return _bank(row, int(count))

    def list_banks(self) -> list[Bank]:
        with self.store.read() as conn:
            counts: dict[int, int] = dict(
                conn.execute(
                    select(bank_entries.c.bank_id, func.count()).group_by(bank_entries.c.bank_id)
                ).all()
            )
            rows = conn.execute(select(banks).order_by(banks.c.name)).mappings().all()
        return [_bank(r, int(counts.get(r["id"], 0))) for r in rows]

    def update(
        self,
        name: str,
        threshold: int | None = None,
        enabled: bool | None = None,
        negative: bool | None = None,
        actor: str = "cli",
    ) -> Bank:
        bank = self.get(name)
        changes: dict[str, Any] = {}
        if threshold is not None:
            if not 0 <= threshold <= MAX_RADIUS:
                raise UsageError(f"threshold must be between 0 and {MAX_RADIUS}")
            changes["threshold"] = threshold
        if enabled is not None:
            changes["enabled"] = enabled
        if negative is not None:
            changes["negative"] = negative
        if changes:
            with self.store.write() as conn:
                conn.execute(
                    banks.update().where(banks.c.id == bank.id).values(updated_at=utcnow(), **changes)
                )
                append_in(conn, actor, "bank.update", "bank", bank.id, {"name": name, **changes})
        return self.get(name)

    # ---- entries ------------------------------------------------------------------------------------

    def add(
        self,
        name: str,
        new: Iterable[NewEntry],
        actor: str = "cli",
        note: str = "add",
        progress: Callable[[int], object] | None = None,
    ) -> list[int]:
        """Add entries (repeats of an entry already in the bank, or earlier in ``new``, are skipped);
        returns the new ids in ``new``'s order. One transaction: the rows, the version bump and the audit
        entry are stored together or not at all. ``progress`` is called with each chunk's size."""
        bank = self.get(name)
        added: list[int] = []
        indexed: dict[str, tuple[list[int], list[str]]] = {stype: ([], []) for stype in INDEXED}
        with self.store.write() as conn:
            loader = EntryLoader(conn, bank.id, utcnow())
            for chunk in chunks(new):
                for entry_id, entry in loader.insert(chunk):
                    added.append(entry_id)
                    if entry.signal_type in indexed:
                        ids, hexes = indexed[entry.signal_type]
                        for frame in [*entry.value.split(), *entry.extra_hashes]:
                            ids.append(entry_id)
                            hexes.append(frame)
                if progress is not None:
                    progress(len(chunk))
            loader.close()
            version = self._bump(conn, bank.id)
            append_in(
                conn,
                actor,
                f"bank.{note}",
                "bank",
                bank.id,
                {
                    "bank": name,
                    "added": len(added),
                    "first_id": added[0] if added else None,
                    "last_id": added[-1] if added else None,
                },
            )
        self._index_add(bank, indexed, version)
        return added

    def entries(self, name: str, include_disabled: bool = True) -> Iterator[Entry]:
        bank = self.get(name)
        last = 0
        while True:
            query = select(bank_entries).where(bank_entries.c.bank_id == bank.id, bank_entries.c.id > last)
            if not include_disabled:
                query = query.where(bank_entries.c.enabled.is_(True), bank_entries.c.quarantined.is_(False))
            with self.store.read() as conn:
                rows = conn.execute(query.order_by(bank_entries.c.id).limit(READ_BATCH)).mappings().all()
            if not rows:
                return
            for r in rows:
                yield _entry(r, name)
            last = rows[-1]["id"]

    def get_entries(self, ids: Sequence[int]) -> dict[int, Entry]:
        out: dict[int, Entry] = {}
        with self.store.read() as conn:
            names = dict(conn.execute(select(banks.c.id, banks.c.name)).all())
            for lo in range(0, len(ids), 1000):
                chunk = list(ids[lo : lo + 1000])
                for r in conn.execute(select(bank_entries).where(bank_entries.c.id.in_(chunk))).mappings():
                    out[r["id"]] = _entry(r, names[r["bank_id"]])
        return out

    def set_enabled(
        self, entry_ids: Sequence[int], enabled: bool, actor: str = "cli", reason: str = ""
    ) -> int:
        """Enable or disable entries (re-enabling also releases an entry from flood quarantine)."""
        found = self.get_entries(entry_ids)
        by_bank: dict[str, list[int]] = {}
        for e in found.values():
            by_bank.setdefault(e.bank, []).append(e.id)
        for name, ids in by_bank.items():
            bank = self.get(name)
            with self.store.write() as conn:
                values: dict[str, Any] = {"enabled": enabled}
                if enabled:
                    values.update(quarantined=False, review_reason=None)
                conn.execute(bank_entries.update().where(bank_entries.c.id.in_(ids)).values(**values))
                version = self._bump(conn, bank.id)
                append_in(
                    conn,
                    actor,
                    "bank.entry.enable" if enabled else "bank.entry.disable",
                    "bank",
                    bank.id,
                    {"bank": name, "entries": ids, "reason": reason},
                )
            self._index_disable(bank, ids, not enabled, version)
        return sum(len(v) for v in by_bank.values())

    def quarantine(self, entry_id: int, reason: str, actor: str = "system") -> None:
        """Take an entry out of matching and mark it for review (the flood guard's action)."""
        entry = self.get_entries([entry_id]).get(entry_id)
        if entry is None or entry.quarantined:
            return
        bank = self.get(entry.bank)
        with self.store.write() as conn:
            conn.execute(
                bank_entries.update()
                .where(bank_entries.c.id == entry_id)
                .values(quarantined=True, review_reason=reason)
            )
            version = self._bump(conn, bank.id)
            append_in(
                conn,
                actor,
                "bank.entry.quarantine",
                "bank",
                bank.id,
                {"bank": bank.name, "entry": entry_id, "reason": reason},
            )
        self._index_disable(bank, [entry_id], True, version)

    def review_queue(self) -> list[Entry]:
        with self.store.read() as conn:
            names = dict(conn.execute(select(banks.c.id, banks.c.name)).all())
            rows = conn.execute(
                select(bank_entries).where(bank_entries.c.quarantined.is_(True)).order_by(bank_entries.c.id)
            ).mappings()
            return [_entry(r, names[r["bank_id"]]) for r in rows]

    def _bump(self, conn: Connection, bank_id: int) -> int:
        conn.execute(
            banks.update()
            .where(banks.c.id == bank_id)
            .values(version=banks.c.version + 1, updated_at=utcnow())
        )
        return int(conn.execute(select(banks.c.version).where(banks.c.id == bank_id)).scalar_one())

    # ---- index --------------------------------------------------------------------------------------

    def index_folder(self, bank: Bank, signal_type: str) -> Path:
        return self.index_root / f"bank-{bank.id}" / signal_type

    def _open_index(self, bank: Bank, signal_type: str) -> PDQIndex:
        return INDEXES[signal_type][0](self.index_folder(bank, signal_type))

    def index(self, bank: Bank, signal_type: str = "pdq") -> PDQIndex:
        """The bank's index, rebuilt from the store only if it is missing or out of step with it."""
        idx = self._open_index(bank, signal_type)
        current = self.get(bank.name).version
        if idx.version != current:
            self._rebuild(bank, signal_type, idx, current)
        return idx

    def _rebuild(self, bank: Bank, signal_type: str, idx: PDQIndex, version: int) -> None:
        hexes: list[str] = []
        ids: list[int] = []
        disabled: list[int] = []
        query = select(
            bank_entries.c.id,
            bank_entries.c.value,
            bank_entries.c.frames,
            bank_entries.c.enabled,
            bank_entries.c.quarantined,
        ).where(bank_entries.c.bank_id == bank.id, bank_entries.c.signal_type == signal_type)
        with self.store.read() as conn:
            for entry_id, value, frames, enabled, quarantined in conn.execute(query):
                for frame in value.split() + list(frames or []):
                    hexes.append(frame)
                    ids.append(entry_id)
                if not enabled or quarantined:
                    disabled.append(entry_id)
        idx.rebuild(
            INDEXES[signal_type][1](hexes),
            np.array(ids, dtype=np.int64),
            np.array(sorted(disabled), dtype=np.int64),
            version,
        )

    def _index_add(self, bank: Bank, indexed: dict[str, tuple[list[int], list[str]]], version: int) -> None:
        for stype in INDEXED:
            idx = self._open_index(bank, stype)
            ids, hexes = indexed.get(stype, ([], []))
            if idx.version == version - 1:
                if ids:
                    idx.add(INDEXES[stype][1](hexes), np.array(ids, np.int64), version)
                else:
                    idx.set_disabled(np.empty(0, np.int64), True, version)  # just record the version
            elif idx.version != -1 or ids:
                self._rebuild(bank, stype, idx, version)

    def _index_disable(self, bank: Bank, ids: list[int], disabled: bool, version: int) -> None:
        for stype in INDEXED:
            idx = self._open_index(bank, stype)
            if idx.version == version - 1:
                idx.set_disabled(np.array(ids, dtype=np.int64), disabled, version)
            elif idx.version != -1:
                self._rebuild(bank, stype, idx, version)
