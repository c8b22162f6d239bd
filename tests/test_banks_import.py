"""Bulk import of bank entries (SQLite and PostgreSQL): counts, rejected rows with their line and reason,
duplicates within the file and against the bank, the audit entry, the index, and all-or-nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.test_banks_cli import lines, run
from tests.test_banks_store import _flip, _hashes
from vigil.audit import log as audit
from vigil.banks import load
from vigil.banks.matcher import Matcher
from vigil.banks.model import NewEntry
from vigil.banks.service import BankService
from vigil.banks.tables import bank_entries
from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import utcnow
from vigil.store import Store


def _index_matches_table(service: BankService, name: str) -> None:
    """The persisted index holds exactly the bank's PDQ rows (ids and hashes), at the bank's version."""
    bank = service.get(name)
    idx = service.index(bank)
    assert idx.version == bank.version
    with service.store.read() as conn:
        rows = conn.execute(
            select(bank_entries.c.id).where(
                bank_entries.c.bank_id == bank.id, bank_entries.c.signal_type == "pdq"
            )
        ).all()
    ids = sorted(int(i) for seg in (idx.main, idx.delta) for i in seg.ids)
    assert ids == sorted(r[0] for r in rows)


def test_cli_import_counts_rejects_and_matches(
    home: Path, tmp_path: Path, store: Store, config: Config, database_url: str
) -> None:
    service = BankService(store, config)
    service.create("lists")
    h = _hashes(8, seed=11)
    [existing] = service.add("lists", [NewEntry("pdq", h[5], {"outlet": "Outlet A"})])
    md5 = "0123456789abcdef" * 2
    rows = [
        "signal_type,signal_str,id,tags",  # line 1
        f"pdq,{h[0]},id-0,alpha beta",  # 2 good
        f"pdq,{h[1]},id-1,",  # 3 good
        f"pdq,{'zz' * 32},id-2,",  # 4 bad hex
        f"pdq,{h[2][:60]},id-3,",  # 5 wrong length
        f"pdq,{h[0]},id-4,",  # 6 duplicate of line 2
        f"pdq,{h[5]},id-5,",  # 7 duplicate of the entry already in the bank
        "pdq",  # 8 truncated line: no hash
        f"pdq,{h[3]},{'x' * 600},",  # 9 oversized id
        f"pdq,{'a' * 200_000},id-6,",  # 10 oversized hash field
        f"md5,{md5},id-7,",  # 11 good
        f"pdq,{h[4]},id-8,bad\x00tag",  # 12 NUL character (PostgreSQL cannot store it)
        f"pdq,{h[6].upper()},id-9,",  # 13 good, normalised to lower case
    ]
    path = tmp_path / "list.csv"
    path.write_text("\n".join(rows) + "\n", "utf-8")
    out = run(["bank", "import", "lists", str(path)], home, database_url)
    assert out.returncode == 0, out.stderr
    [summary] = lines(out.stdout)
    assert summary == {
        "bank": "lists",
        "format": "te-csv",
        "read": 6,
        "added": 4,
        "duplicates": 2,
        "rejected": 6,
    }
    bad_lines = [4, 5, 8, 9, 10, 12]
    for number in bad_lines:
        assert f"line {number}:" in out.stderr
    kept = {q.location: q for q in store.list_quarantined() if q.source == str(path)}
    assert sorted(kept) == sorted(f"line {n}" for n in bad_lines)
    assert "hex digits" in kept["line 4"].reason and "hex digits" in kept["line 5"].reason
    assert "longer than 512" in kept["line 9"].reason and "NUL" in kept["line 12"].reason
    assert all(q.reason for q in kept.values())

    # The real matcher finds every imported hash (and the old entry), nothing for the rejected ones.
    results = Matcher(service, ["lists"]).match_pdq([h[0], h[1], h[6], h[5], _flip(h[1], 10), h[3], h[4]])
    found = [[m.entry_id for m in r.matches] for r in results]
    assert all(len(f) == 1 for f in found[:5]) and found[3] == [existing]
    assert found[1] == found[4] and found[5] == [] and found[6] == []
    assert [m.distance for m in results[4].matches] == [10]
    assert [m.entry_id for m in Matcher(service, ["lists"]).match_exact("md5", md5)]
    meta = service.get_entries([found[0][0]])[found[0][0]].meta
    assert meta["labels"] == ["alpha", "beta"] and meta["id"] == "id-0"
    _index_matches_table(service, "lists")
    [entry] = [e for e in audit.entries(store, limit=20) if e.action == "bank.import"]
    assert entry.details["added"] == 4 and entry.details["bank"] == "lists"
    assert audit.verify(store).ok

    # The same file again: everything good is a duplicate now, nothing added, the index unchanged.
    again = run(["bank", "import", "lists", str(path)], home, database_url)
    assert lines(again.stdout)[0]["added"] == 0 and lines(again.stdout)[0]["duplicates"] == 6
    assert service.get("lists").entries == 5
    _index_matches_table(service, "lists")


def test_duplicates_across_chunks_and_banks(
    store: Store, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(load, "CHUNK", 3)  # repeats fall within a chunk, across chunks and on old rows
    service = BankService(store, config)
    service.create("a")
    service.create("b")
    h = _hashes(6, seed=12)
    first = service.add("a", [NewEntry("pdq", h[0]), NewEntry("pdq", h[1])])
    in_b = service.add("b", [NewEntry("pdq", h[2])])  # the same hash in another bank is not a repeat
    order = [h[2], h[3], h[3], h[0], h[4], h[2], h[5], h[1], h[4], h[5]]
    progress: list[int] = []
    added = service.add("a", [NewEntry("pdq", v) for v in order], note="import", progress=progress.append)
    assert progress == [3, 3, 3, 1]
    assert len(added) == 4 and added == sorted(added)  # ids in the file's order
    got = service.get_entries(added)
    assert [got[i].value for i in added] == [h[2], h[3], h[4], h[5]]
    assert service.get("a").entries == 6 and service.get("b").entries == 1
    with store.read() as conn:
        per_value = conn.execute(
            select(bank_entries.c.bank_id, bank_entries.c.value, func.count())
            .group_by(bank_entries.c.bank_id, bank_entries.c.value)
            .having(func.count() > 1)
        ).all()
    assert per_value == []
    results = Matcher(service, ["a"]).match_pdq(h)
    assert [r.matches[0].entry_id for r in results] == [first[0], first[1], *added]
    assert [m.entry_id for m in Matcher(service, ["b"]).match_pdq([h[2]])[0].matches] == in_b
    _index_matches_table(service, "a")


def test_a_failed_import_leaves_nothing(
    store: Store, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(load, "CHUNK", 2)
    service = BankService(store, config)
    service.create("atomic")
    h = _hashes(7, seed=13)
    service.add("atomic", [NewEntry("pdq", h[0])])
    version = service.get("atomic").version
    assert len(service.index(service.get("atomic"))) == 1

    def broken() -> Iterator[NewEntry]:
        for value in h[1:6]:  # two whole chunks are inserted before the source fails
            yield NewEntry("pdq", value)
        raise OSError("the list's source went away")

    with pytest.raises(OSError):
        service.add("atomic", broken(), note="import")
    bank = service.get("atomic")
    assert bank.entries == 1 and bank.version == version
    assert [e.action for e in audit.entries(store, limit=20)].count("bank.import") == 0
    assert Matcher(service, ["atomic"]).match_pdq([h[1]])[0].matches == []
    # The next import works (the temporary table of the failed one is gone or reused).
    added = service.add("atomic", [NewEntry("pdq", v) for v in h[1:]], note="import")
    assert len(added) == 6
    assert [len(r.matches) for r in Matcher(service, ["atomic"]).match_pdq(h)] == [1] * 7
    _index_matches_table(service, "atomic")


def test_sqlite_checks_repeats_through_the_value_index(config: Config) -> None:
    """The duplicate check must be an index look-up per row; a scan of the bank per chunk made an
    import of a million hashes quadratic (979 s). SQLite only: the plan is SQLite's."""
    store = open_store(config)
    try:
        service = BankService(store, config)
        service.create("plan")
        with store.write() as conn:
            loader = load.EntryLoader(conn, service.get("plan").id, utcnow())
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + loader.insert_sql, (loader.now,)).all()
            loader.close()
        details = " | ".join(str(row[-1]) for row in plan)
        assert "USING INDEX ix_bank_entries_value (signal_type=? AND value=?)" in details, details
    finally:
        store.close()


def test_postgresql_checks_repeats_per_row_deep_in_an_import(
    store: Store, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside one import the bank outgrows its statistics; the planner then hashed the whole bank for
    every chunk (a million hashes: 1.2 s a chunk at the end, 0.22 s at the start). The duplicate check
    must stay one probe of ix_bank_entries_value per row however large the bank has grown."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plan (SQLite's: test_sqlite_checks_repeats_through_the_value_index)")
    monkeypatch.setattr(load, "CHUNK", 1000)
    service = BankService(store, config)
    service.create("deep")
    hashes = _hashes(30_000, seed=21)
    with store.write() as conn:
        loader = load.EntryLoader(conn, service.get("deep").id, utcnow())
        for chunk in load.chunks(NewEntry("pdq", h) for h in hashes):
            loader.insert(chunk)
        plan = [r[0] for r in conn.exec_driver_sql("EXPLAIN " + loader.insert_sql, (loader.now,)).all()]
        loader.close()
    text = "\n".join(plan)
    assert "SubPlan" in text and "Index Scan using ix_bank_entries_value" in text, text
    assert "Hash" not in text and "Seq Scan on bank_entries" not in text, text
    assert 0 < loader.analyzed_rows <= 30_000 < 2 * loader.analyzed_rows + 1000
