"""Hash-list formats: the published shapes, round trips that keep every piece of metadata, hostile input."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.banks.formats import Rejected, read, sniff_format, write
from vigil.banks.model import Entry, NewEntry

DATA = Path(__file__).parent / "data" / "banks"


def _split(records: list[NewEntry | Rejected]) -> tuple[list[NewEntry], list[Rejected]]:
    good = [r for r in records if isinstance(r, NewEntry)]
    return good, [r for r in records if isinstance(r, Rejected)]


def test_lines_reports_bad_lines_with_their_number() -> None:
    text = (
        "# a comment\n" + "a" * 64 + "\n\nnot-hex\n" + "B" * 64 + "  # trailing comment\n" + "c" * 63 + "\n"
    )
    good, bad = _split(list(read(text, "lines", "pdq")))
    assert [g.value for g in good] == ["a" * 64, "b" * 64]
    assert [b.location for b in bad] == ["line 4", "line 6"]


def test_threatexchange_dataset_csv() -> None:
    good, bad = _split(list(read((DATA / "te_dataset.csv").read_text(), "te-csv")))
    assert [(g.signal_type, g.meta["collab"], g.meta["labels"]) for g in good] == [
        ("pdq", "Sample Collab", ["outlet-a", "violent"]),
        ("md5", "Sample Collab", ["outlet-a"]),
    ]
    assert [b.location for b in bad] == ["line 4"]


def test_threatexchange_api_csv_keeps_ids_and_dates() -> None:
    good, bad = _split(list(read((DATA / "te_api.csv").read_text(), "te-csv")))
    assert [g.source_id for g in good] == ["1234567890", "1234567891"]
    assert good[0].first_seen is not None and good[0].first_seen.year == 2021
    assert good[1].first_seen is not None and good[1].first_seen.year == 2021
    assert good[0].meta["owner_id"] == "999" and good[0].meta["status"] == "MALICIOUS"
    assert len(bad) == 1 and "HASH_FOO" in bad[0].reason


def test_tat_json_keeps_every_field() -> None:
    good, bad = _split(list(read((DATA / "tat_hashlist.json").read_text(), "tat-json")))
    assert [g.source_id for g in good] == ["tat-0001", "tat-0002"]
    first = good[0]
    assert first.meta["entity"] == "Outlet A" and first.meta["outlet"] == "Outlet A"
    assert first.meta["ideology"] == "placeholder-ideology" and first.meta["platform_count"] == 4
    assert first.meta["labels"] == ["official-release"] and first.first_seen is not None
    assert good[1].signal_type == "sha256"
    assert [b.location for b in bad] == ["record 3", "record 4", "record 5"]


def _entry(n: NewEntry, i: int) -> Entry:
    return Entry(
        i, "b", n.signal_type, n.value, n.meta, n.source, n.source_id, n.first_seen, True, False, None, 0
    )


def test_export_then_import_loses_no_metadata() -> None:
    good, _ = _split(list(read((DATA / "tat_hashlist.json").read_text(), "tat-json")))
    entries = [_entry(g, i) for i, g in enumerate(good, 1)]
    for fmt in ("te-csv", "tat-json"):
        buf = io.StringIO()
        assert write(entries, fmt, buf) == len(entries)
        back, bad = _split(list(read(buf.getvalue(), fmt)))
        assert not bad
        for before, after in zip(good, back, strict=True):
            assert after.value == before.value and after.signal_type == before.signal_type
            assert after.source_id == before.source_id
            for key, value in before.meta.items():
                assert after.meta[key] == value, (fmt, key)


def test_sniffing() -> None:
    assert sniff_format("x.json", "{") == "tat-json"
    assert sniff_format("x.csv", "signal_type,signal_str") == "te-csv"
    assert sniff_format("x.txt", "a" * 64) == "lines"


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400), st.sampled_from(["lines", "te-csv", "tat-json"]))
def test_hostile_input_never_crashes(text: str, fmt: str) -> None:
    for rec in read(text, fmt, "pdq"):
        assert isinstance(rec, NewEntry | Rejected)
        if isinstance(rec, Rejected):
            assert rec.location and rec.reason


_GARBAGE = st.one_of(
    st.text(alphabet="0123456789abcdefxyz -,;", min_size=1, max_size=80),  # near-hex, wrong lengths
    st.text(min_size=1, max_size=80).filter(lambda s: "\n" not in s and "\r" not in s),
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(min_size=32, max_size=32).map(lambda b: ("good", b.hex())),
            st.binary(min_size=32, max_size=32).map(lambda b: ("good", b.hex().upper() + "  # note")),
            _GARBAGE.map(lambda s: ("raw", s)),
        ),
        max_size=40,
    )
)
def test_lines_keep_order_and_report_every_bad_line(records: list[tuple[str, str]]) -> None:
    """Every hash comes back normalised and in order; every other non-blank, non-comment line comes back
    rejected with its own line number (whatever else the file holds)."""
    text = "\n".join(value for _, value in records) + "\n"
    good, bad = _split(list(read(text, "lines", "pdq")))
    want_good: list[str] = []
    want_bad: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if len(line) == 64 and all(c in "0123456789abcdef" for c in line.lower()):
            want_good.append(line.lower())
        else:
            want_bad.append(f"line {number}")
    assert [g.value for g in good] == want_good
    assert [b.location for b in bad] == want_bad
    assert all(b.reason for b in bad)
    assert len(want_good) >= sum(kind == "good" for kind, _ in records)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32).map(bytes.hex), min_size=1, max_size=8), st.data())
def test_te_csv_bad_rows_do_not_stop_the_file(hashes: list[str], data: st.DataObject) -> None:
    """Bad rows among good ones (oversized fields, missing hash, long ids, NUL): each is rejected on its own
    line and every good row still comes through."""
    bad_rows = [
        "pdq," + "a" * 140_000 + ",x,",  # over the csv module's field size limit (or just not a hash)
        "pdq",
        "pdq,,x,",
        "pdq," + "b" * 64 + "," + "i" * 600 + ",",
        "pdq," + "c" * 64 + ",x,a\x00b",
        'pdq,"' + "d" * 64 + '"extra,x,',
    ]
    rows: list[tuple[bool, str]] = [(True, f"pdq,{h},id-{i},tag") for i, h in enumerate(hashes)]
    for row in data.draw(st.lists(st.sampled_from(bad_rows), max_size=6)):
        rows.insert(data.draw(st.integers(0, len(rows))), (False, row))
    text = "signal_type,signal_str,id,tags\n" + "\n".join(r for _, r in rows) + "\n"
    good, bad = _split(list(read(text, "te-csv")))
    assert [g.value for g in good] == hashes
    assert [b.location for b in bad] == [f"line {n}" for n, (ok, _) in enumerate(rows, 2) if not ok]
