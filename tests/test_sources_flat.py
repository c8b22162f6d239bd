"""JSON Lines and CSV sources: valid records read, bad ones quarantined with their line, nothing lost."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.core.model import Item, Quarantined
from vigil.sources.base import SourceContext
from vigil.sources.csvfile import CsvSource
from vigil.sources.discover import choose, sources
from vigil.sources.jsonl import JsonLinesSource
from vigil.store.media import MediaSink


def _ctx(tmp_path: Path, **kw: int) -> SourceContext:
    return SourceContext(media=MediaSink(tmp_path / "media"), **kw)


def _split(records: list[Item | Quarantined]) -> tuple[list[Item], list[Quarantined]]:
    return [r for r in records if isinstance(r, Item)], [r for r in records if isinstance(r, Quarantined)]


def test_jsonl_mixed_good_and_bad(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    lines = [
        json.dumps({"id": 1, "text": "first", "account": "a", "extra": {"x": 1}}),
        '{"id": 2, "text": "trunc',
        "",
        json.dumps([1, 2]),
        json.dumps({"id": 3, "text": 5}),
        json.dumps({"id": 4, "text": "fourth", "date": "2019-05-19T10:00:00Z"}),
    ]
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": 5, "text": "caf\xe9"}\n')
    items, bad = _split(list(JsonLinesSource().read(path, _ctx(tmp_path))))
    assert [i.native_id for i in items] == ["1", "4"]
    assert items[0].meta == {"extra": {"x": 1}}
    assert items[1].published is not None and items[1].published.year == 2019
    assert [(q.location, q.reason.split(":")[0]) for q in bad] == [
        ("line 2", "invalid JSON"),
        ("line 4", "expected an object, found list"),
        ("line 5", "field 'text' must be a string, found int"),
        ("line 7", "not valid UTF-8 at byte 22"),
    ]


def test_jsonl_oversized_line_quarantined_and_rest_read(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text(
        json.dumps({"id": "a", "text": "x" * 5000}) + "\n" + json.dumps({"id": "b", "text": "ok"}) + "\n",
        "utf-8",
    )
    items, bad = _split(list(JsonLinesSource().read(path, _ctx(tmp_path, max_record_bytes=1000))))
    assert [i.native_id for i in items] == ["b"]
    assert bad[0].location == "line 1" and "longer than 1000" in bad[0].reason


def test_jsonl_utf16_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "u16.jsonl"
    path.write_bytes(
        b"\xff\xfe"
        + (json.dumps({"id": "u", "text": "مرحبا"}, ensure_ascii=False) + "\n").encode("utf-16-le")
    )
    items, bad = _split(list(JsonLinesSource().read(path, _ctx(tmp_path))))
    assert bad == [] and items[0].text == "مرحبا"


def test_csv_keeps_other_columns_and_quarantines_ragged_rows(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text('id,text,lang,score\n1,hello,en,3\n2,"multi\nline",fr,4\n3,short\n4,last,ar,5\n', "utf-8")
    items, bad = _split(list(CsvSource().read(path, _ctx(tmp_path))))
    assert [i.text for i in items] == ["hello", "multi\nline", "last"]
    assert items[0].meta == {"score": "3"} and items[0].lang == "en"
    assert [(q.location, q.reason) for q in bad] == [("line 5", "2 fields where the header has 4")]


def test_sniffing_picks_the_right_source(tmp_path: Path) -> None:
    jl = tmp_path / "noext"
    jl.write_text('{"text": "a"}\n{"text": "b"}\n', "utf-8")
    cs = tmp_path / "data.txt"
    cs.write_text("id;text\n1;a\n", "utf-8")
    assert getattr(choose(jl, sources()), "name", None) == "jsonl"
    assert getattr(choose(cs, sources()), "name", None) == "csv"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.binary(max_size=80), st.text(max_size=80).map(str.encode)), max_size=12))
def test_jsonl_never_raises_and_accounts_for_every_line(tmp_path: Path, chunks: list[bytes]) -> None:
    path = tmp_path / "fuzz.jsonl"
    body = b"\n".join(c.replace(b"\n", b" ").replace(b"\r", b" ") for c in chunks)
    path.write_bytes(body)
    records = list(JsonLinesSource().read(path, _ctx(tmp_path, max_record_bytes=64)))
    nonblank = 0
    for line in body.split(b"\n"):
        try:
            nonblank += bool(line.decode("utf-8").strip())
        except UnicodeDecodeError:
            nonblank += 1
    if not body.startswith((b"\xff\xfe", b"\xfe\xff")):
        assert len(records) == nonblank


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_csv_never_raises_unexpectedly(tmp_path: Path, body: str) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_text("id,text\n" + body, "utf-8")
    for record in CsvSource().read(path, _ctx(tmp_path)):
        assert isinstance(record, Item | Quarantined)
