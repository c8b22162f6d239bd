"""Pure parts of the workflow, property-tested: highlighting never loses or reorders text, a cursor
round-trips and garbage cursors are refused with a clear error, charts escape what they draw."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from vigil.core.model import Case, Reason, Signal
from vigil.web import charts
from vigil.workflow.errors import WorkflowError
from vigil.workflow.queue import CaseFile, decode_cursor, encode_cursor

spans = st.tuples(st.integers(-5, 60), st.integers(-5, 60))


@given(text=st.text(max_size=50), pairs=st.lists(spans, max_size=8))
def test_highlights_cover_the_text_exactly_once(text: str, pairs: list[tuple[int, int]]) -> None:
    reasons = [Reason("r", a, b) for a, b in pairs]
    from vigil.core.model import Item

    item = Item("i", "test", text)
    found = CaseFile(Case(1, "i"), item, [Signal("i", "d", 1.0, 0.5, reasons)], [], [])
    runs = found.highlights()
    assert "".join(r.text for r in runs) == text
    for run in runs:
        if run.reason:
            assert run.text and run.reason.startswith("d: ")


@given(
    when=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),
    ident=st.integers(1, 2**62),
)
def test_cursor_round_trip(when: datetime, ident: int) -> None:
    assert decode_cursor(encode_cursor(Case(ident, "x", opened_at=when))) == (when, ident)


@given(st.text(max_size=40))
def test_garbage_cursor_is_refused_or_parsed(cursor: str) -> None:
    try:
        when, ident = decode_cursor(cursor)
    except WorkflowError as exc:
        assert "bad cursor" in str(exc)
    else:
        assert isinstance(ident, int) and when.tzinfo is not None


def test_charts_escape_labels() -> None:
    svg = charts.lines("t<script>", ["2026-01-01", "2026-01-02"], {"<b>x</b>": [1, 2]})
    assert "<script>" not in svg and "&lt;b&gt;" in svg
    histogram = charts.histogram("h", [0.5, 2, 100, 400, 1.0], [1, 24, 168], "h")
    # four buckets (≤1, ≤24, ≤168, >168) with 2, 1, 1, 1 values
    assert histogram.count("<rect") == 4
    assert [t.split("</title>")[0] for t in histogram.split("<title>")[2:]] == [
        "≤1h: 2",
        "≤24h: 1",
        "≤168h: 1",
        "&gt;168h: 1",
    ]
