"""Incremental build: fold newly stored items into the graph, and catch up on items not yet graphed.

``update_graph(store, items)`` is the pipeline hook: it reloads the items from the store by id (the graph
always works from items as stored, i.e. with pseudonymised accounts and channels, whatever the caller
holds), claims them in ``graph_items`` (an item is graphed once, however often it is offered), extracts
their facts and merges them into ``graph_nodes`` and ``graph_edges`` in one transaction.
``catch_up(store)`` walks the items table from a watermark (ingested_at, id) and does the same for
everything stored since, so a missed hook loses nothing.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, and_, exists, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from vigil.core.model import Account, Item, Media, utcnow
from vigil.graph.extract import ExtractContext, extract, platform_of
from vigil.graph.merge import write_facts
from vigil.graph.pseudonym import AccountKeys
from vigil.graph.state import among, bump_version, get_state, lock, set_state
from vigil.graph.succession import infer_successions
from vigil.graph.tables import graph_edges, graph_items, graph_nodes
from vigil.privacy.pseudonym import Pseudonymiser
from vigil.store import Store
from vigil.store.schema import accounts, item_media, items, signals

log = logging.getLogger(__name__)

CHUNK = 500
BIG_CHUNK = 20_000  # ids per lookup where the lookup takes them as one parameter (``among``)
ITEM_COLUMNS = (
    "id",
    "source",
    "native_id",
    "url",
    "account_key",
    "channel_key",
    "published",
    "links",
    "reply_to",
    "forwarded_from",
    "meta",
    "ingested_at",
)
SETTLE = timedelta(minutes=5)
OUTLET_DETECTOR = "outlets"


class Progress(Protocol):
    def advance(self, n: int) -> None: ...


@dataclass(slots=True)
class UpdateResult:
    items: int = 0
    nodes_added: int = 0
    edges_added: int = 0
    edges_updated: int = 0
    successions: int = 0  # inferred successions added
    successions_removed: int = 0  # inferred successions that the batch's evidence contradicts

    def add(self, other: UpdateResult) -> None:
        for name in FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def to_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in FIELDS}


FIELDS = ("items", "nodes_added", "edges_added", "edges_updated", "successions", "successions_removed")


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def update_graph(
    store: Store, batch: Sequence[Item], pseudonymiser: Pseudonymiser | None = None
) -> UpdateResult:
    """Fold items (already stored) into the graph; items graphed before are skipped.

    Only the ids of ``batch`` are used: the items are read back from the store as stored (an item not
    in the store is not graphed). ``pseudonymiser`` is used only by a store without an identity guard."""
    keys = AccountKeys.for_store(store, pseudonymiser)
    ids = list(dict.fromkeys(item.id for item in batch))
    with store.write() as conn:
        lock(conn)
        known = set(_graphed(conn, ids))
        wanted = [i for i in ids if i not in known]
        rows: list[Any] = []
        for part in chunks(wanted, BIG_CHUNK):
            rows.extend(conn.execute(_item_query().where(among(conn, items.c.id, list(part)))).mappings())
        if not rows:
            return UpdateResult()
        order = {item_id: n for n, item_id in enumerate(wanted)}
        rows.sort(key=lambda r: order[r["id"]])
        return apply_items(conn, load_items(conn, rows), keys)


def pipeline_hook(store: Store) -> Callable[[Sequence[Item]], object]:
    """The ``vigil.after_store`` hook: every batch the pipeline stores is graphed as it arrives.

    A failure is logged and does not fail the ingestion (the items are stored; the next ``catch_up``, run
    by every ``vigil graph`` query and by ``vigil graph update``, graphs them)."""

    def hook(fresh: Sequence[Item]) -> UpdateResult | None:
        try:
            return update_graph(store, fresh)
        except Exception:
            log.exception("graph update of %d items failed; `vigil graph update` will catch up", len(fresh))
            return None

    return hook


def apply_items(conn: Connection, batch: Sequence[Item], keys: AccountKeys) -> UpdateResult:
    lock(conn)
    unique = list({item.id: item for item in batch}.values())
    fresh = set(_claim(conn, [item.id for item in unique]))
    todo = [item for item in unique if item.id in fresh]
    if not todo:
        return UpdateResult()
    with _no_cycle_collection():
        facts = extract(todo, _context(conn, todo, keys))
        result = UpdateResult(items=len(todo))
        written = write_facts(conn, facts, result)
    inferred = infer_successions(conn, written)
    result.successions, result.successions_removed = inferred.added, inferred.removed
    bump_version(conn)
    return result


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch builds its many small, acyclic objects (it would
    rescan them all again and again for nothing: a quarter of the build time); reference counting still
    frees everything, and the collector resumes afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def catch_up(
    store: Store,
    pseudonymiser: Pseudonymiser | None = None,
    batch_size: int = 20_000,
    progress: Progress | None = None,
) -> UpdateResult:
    """Graph every item stored after the watermark and not graphed yet, in (ingested_at, id) order;
    move the watermark. Items the pipeline hook graphed already are skipped without being loaded."""
    keys = AccountKeys.for_store(store, pseudonymiser)
    total = UpdateResult()
    while True:
        with store.write() as conn:
            lock(conn)
            mark = get_state(conn, "watermark")
            query = _waiting(_item_query(), mark).order_by(items.c.ingested_at, items.c.id).limit(batch_size)
            rows = list(conn.execute(query).mappings())
            if not rows:
                _settle(conn, mark)
                return total
            total.add(apply_items(conn, load_items(conn, rows), keys))
            set_state(conn, "watermark", [rows[-1]["ingested_at"].isoformat(), rows[-1]["id"]])
        if progress is not None:
            progress.advance(len(rows))


def _item_query() -> Any:
    """The columns of ``items`` the graph reads (not the text)."""
    return select(*(items.c[name] for name in ITEM_COLUMNS))


def pending(store: Store) -> int:
    """How many stored items after the watermark are not graphed yet."""
    with store.read() as conn:
        query = _waiting(select(func.count()).select_from(items), get_state(conn, "watermark"))
        return int(conn.execute(query).scalar_one())


def _waiting(query: Any, mark: Any) -> Any:
    query = query.where(~exists().where(graph_items.c.item_id == items.c.id))
    if mark:
        at = datetime.fromisoformat(mark[0])
        query = query.where(
            or_(items.c.ingested_at > at, and_(items.c.ingested_at == at, items.c.id > mark[1]))
        )
    return query


def _settle(conn: Connection, mark: Any) -> None:
    """Nothing is waiting: move the watermark past everything stored more than SETTLE ago (later items
    may still be committing with earlier times), so the next catch-up scans only what came since."""
    last = conn.execute(
        select(items.c.ingested_at, items.c.id)
        .where(items.c.ingested_at <= utcnow() - SETTLE)
        .order_by(items.c.ingested_at.desc(), items.c.id.desc())
        .limit(1)
    ).first()
    if last is not None and (not mark or [last[0].isoformat(), last[1]] > mark):
        set_state(conn, "watermark", [last[0].isoformat(), last[1]])


def load_items(conn: Connection, rows: Sequence[Any]) -> list[Item]:
    """Items from their rows, with accounts and media hashes, in three queries per batch."""
    keys = {k for r in rows for k in (r["account_key"], r["channel_key"]) if k}
    accs: dict[str, Account] = {}
    a_cols = select(
        accounts.c.key,
        accounts.c.platform,
        accounts.c.native_id,
        accounts.c.handle,
        accounts.c.display_name,
        accounts.c.is_channel,
    )
    for part in chunks(sorted(keys), BIG_CHUNK):
        for a in conn.execute(a_cols.where(among(conn, accounts.c.key, list(part)))).mappings():
            accs[a["key"]] = Account(
                a["platform"], a["native_id"], a["handle"], a["display_name"], bool(a["is_channel"])
            )
    found: dict[str, list[Media]] = {}
    ids = [r["id"] for r in rows]
    m_cols = select(item_media.c.item_id, item_media.c.sha256, item_media.c.name, item_media.c.url)
    for part in chunks(ids, BIG_CHUNK):
        for m in conn.execute(m_cols.where(among(conn, item_media.c.item_id, list(part)))).mappings():
            found.setdefault(m["item_id"], []).append(Media(m["sha256"], "", 0, name=m["name"], url=m["url"]))
    return [
        Item(
            id=r["id"],
            source=r["source"],
            text="",
            native_id=r["native_id"],
            url=r["url"],
            account=accs.get(r["account_key"] or ""),
            channel=accs.get(r["channel_key"] or ""),
            published=r["published"],
            media=found.get(r["id"], []),
            links=[x for x in (r["links"] or []) if isinstance(x, str)],
            reply_to=r["reply_to"],
            forwarded_from=r["forwarded_from"],
            meta=dict(r["meta"] or {}),
        )
        for r in rows
    ]


def _graphed(conn: Connection, ids: Sequence[str]) -> list[str]:
    """Those of ``ids`` that are graphed already."""
    found: list[str] = []
    for part in chunks(ids, BIG_CHUNK):
        found.extend(
            conn.execute(
                select(graph_items.c.item_id).where(among(conn, graph_items.c.item_id, list(part)))
            ).scalars()
        )
    return found


def _claim(conn: Connection, ids: list[str]) -> list[str]:
    """Record ``ids`` as graphed; return those that were not (one statement per chunk)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(graph_items).on_conflict_do_nothing().returning(graph_items.c.item_id)
    claimed: list[str] = []
    for part in chunks(ids, BIG_CHUNK):
        claimed.extend(conn.execute(stmt, [{"item_id": i} for i in part]).scalars())
    return claimed


def _context(conn: Connection, batch: Sequence[Item], keys: AccountKeys) -> ExtractContext:
    ctx = ExtractContext(node_key=keys.node_key, canonical=keys.canonical)
    by_platform = {item.id: platform_of(item) for item in batch}
    replies = {item.reply_to for item in batch if item.reply_to}
    if replies:
        for part in chunks(sorted(replies), BIG_CHUNK):
            for ref_id, native, author in conn.execute(
                select(items.c.id, items.c.native_id, items.c.account_key).where(
                    or_(among(conn, items.c.id, part), among(conn, items.c.native_id, part))
                )
            ):
                if author:
                    ctx.reply_authors[ref_id] = author
                    if native:
                        ctx.reply_authors.setdefault(native, author)
    refs = {
        keys.canonical(f if ":" in f else f"{by_platform[item.id]}:{f}")
        for item in batch
        if isinstance(item.forwarded_from, str) and (f := item.forwarded_from.strip())
    } | {keys.canonical(a) for a in ctx.reply_authors.values()}
    for part in chunks(sorted(refs), BIG_CHUNK):
        ctx.channel_keys.update(
            conn.execute(
                select(accounts.c.key).where(among(conn, accounts.c.key, list(part)), accounts.c.is_channel)
            ).scalars()
        )
    ctx.registered = registered_venues(conn)
    for part in chunks([item.id for item in batch], BIG_CHUNK):
        for item_id, meta in conn.execute(
            select(signals.c.item_id, signals.c.meta).where(
                among(conn, signals.c.item_id, list(part)), signals.c.detector == OUTLET_DETECTOR
            )
        ):
            names = (meta or {}).get("outlets") if isinstance(meta, dict) else None
            if isinstance(names, list):
                ctx.signal_outlets[item_id] = [n for n in names if isinstance(n, str)]
    return ctx


def registered_venues(conn: Connection) -> dict[str, set[str]]:
    """Venue node key -> names of the outlets it was registered to (``vigil graph outlet add``)."""
    src, dst = graph_nodes.alias("src"), graph_nodes.alias("dst")
    rows = conn.execute(
        select(src.c.key, dst.c.label, graph_edges.c.attrs)
        .join(src, src.c.id == graph_edges.c.src)
        .join(dst, dst.c.id == graph_edges.c.dst)
        .where(graph_edges.c.kind == "part-of", dst.c.kind == "outlet")
    )
    out: dict[str, set[str]] = {}
    for key, label, attrs in rows:
        if (attrs or {}).get("registered"):
            out.setdefault(key, set()).add(label)
    return out
