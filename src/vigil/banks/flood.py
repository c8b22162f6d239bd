"""The flood guard: an entry that matches far more than its bank's other entries (a blank frame, a logo,
a badly chosen hash) is taken out of matching and queued for review, instead of flooding the case queue.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects import postgresql, sqlite

from vigil.banks.service import BankService
from vigil.banks.tables import bank_entries, bank_entry_items
from vigil.config import Config


def settings(config: Config) -> tuple[int, float]:
    """(minimum matches before an entry can be flagged, how many times its peers' mean)."""
    return int(config.extra.get("bank_flood_min", 25)), float(config.extra.get("bank_flood_factor", 20.0))


def record_item_matches(service: BankService, matches: Iterable[tuple[int, str]]) -> list[int]:
    """Count the (entry id, item id) matches of a scan, each pair once ever (``bank_entry_items``): an
    item scored again (its scan killed before its detection was stored, a redelivered queue message) does
    not count twice. Then as ``record_matches``; returns the ids quarantined."""
    pairs = sorted(set(matches))
    if not pairs:
        return []
    dialect = postgresql if service.store.dialect == "postgresql" else sqlite
    stmt = dialect.insert(bank_entry_items).on_conflict_do_nothing().returning(bank_entry_items.c.entry_id)
    with service.store.write() as conn:
        fresh = Counter(conn.execute(stmt, [{"entry_id": e, "item_id": i} for e, i in pairs]).scalars())
        _add_counts(conn, fresh)
    return _flag(service, fresh)


def record_matches(service: BankService, entry_ids: Iterable[int]) -> list[int]:
    """Count matches per entry (files matched outside a scan: ``vigil match``); quarantine the entries
    that now match far more than their peers. Returns the ids quarantined."""
    counts = Counter(entry_ids)
    if not counts:
        return []
    with service.store.write() as conn:
        _add_counts(conn, counts)
    return _flag(service, counts)


def _add_counts(conn: Connection, counts: Counter[int]) -> None:
    for entry_id, n in sorted(counts.items()):
        conn.execute(
            bank_entries.update()
            .where(bank_entries.c.id == entry_id)
            .values(match_count=bank_entries.c.match_count + n)
        )


def _flag(service: BankService, counts: Counter[int]) -> list[int]:
    if not counts:
        return []
    minimum, factor = settings(service.config)
    flagged = []
    with service.store.read() as conn:
        rows = conn.execute(
            select(bank_entries.c.id, bank_entries.c.bank_id, bank_entries.c.match_count).where(
                bank_entries.c.id.in_(list(counts))
            )
        ).all()
        for entry_id, bank_id, count in rows:
            if count < minimum:
                continue
            total, peers = conn.execute(
                select(func.coalesce(func.sum(bank_entries.c.match_count), 0), func.count()).where(
                    bank_entries.c.bank_id == bank_id,
                    bank_entries.c.id != entry_id,
                    bank_entries.c.match_count > 0,
                )
            ).one()
            peer_mean = float(total) / peers if peers else 1.0
            if count >= factor * max(peer_mean, 1.0):
                flagged.append((entry_id, count, peer_mean))
    for entry_id, count, peer_mean in flagged:
        service.quarantine(
            entry_id,
            f"flood guard: {count} matches against a peer mean of {peer_mean:.1f}; review before re-enabling",
        )
    return [f[0] for f in flagged]
