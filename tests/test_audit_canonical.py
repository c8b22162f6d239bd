"""The audit hash covers RFC 8785 text that the store keeps byte for byte (issue 16 #5), on SQLite and
PostgreSQL; chains written before stay verifiable; an id gap is no tamper alarm.

The false alarm: the hash covered Python's JSON of the details, but PostgreSQL's JSONB gives ``1e16``
back as an integer and ``-0.0`` as ``0``, so an admin saving ``1e16`` as a setting broke ``vigil audit
verify`` for good.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from datetime import timedelta
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from vigil.audit import log as audit
from vigil.audit.canonical import SAFE_INT, canonical, number
from vigil.audit.log import audit_log, entry_hash
from vigil.core.model import utcnow
from vigil.store import Store
from vigil.workflow.settings import set_setting

HYPO = settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_a_setting_of_1e16_leaves_the_log_verifiable(store: Store) -> None:
    """The regression."""
    for value in (1e16, -0.0, 1.5e300, {"nested": [1e16, -0.0, 0.1]}):
        set_setting(store, "placeholder.number", value, "adam")
    result = audit.verify(store)
    assert result.ok, result.reason
    assert result.entries == 4
    # What the log shows is what was hashed (numbers as JSON has them: 1e16 is 10000000000000000).
    newest = audit.entries(store, 1)[0]
    assert newest.details["new"] == {"nested": [10**16, 0, 0.1]}


# ---- the canonical text --------------------------------------------------------------------------------

# Numbers from RFC 8785 (appendix B and section 3.2.2.3) and ECMAScript's rules: IEEE 754 bits -> text.
VECTORS = {
    0x0000000000000000: "0",
    0x8000000000000000: "0",
    0x0000000000000001: "5e-324",
    0x8000000000000001: "-5e-324",
    0x7FEFFFFFFFFFFFFF: "1.7976931348623157e+308",
    0x4340000000000000: "9007199254740992",
    0xC340000000000000: "-9007199254740992",
    0x4430000000000000: "295147905179352830000",
    0x44B52D02C7E14AF6: "1e+23",
    0x444B1AE4D6E2EF50: "1e+21",
    0x444B1AE4D6E2EF4F: "999999999999999900000",
    0x3EB0C6F7A0B5ED8D: "0.000001",
    0x41B3DE4355555555: "333333333.3333333",
}


@pytest.mark.parametrize(("bits", "text"), sorted(VECTORS.items()))
def test_numbers_as_rfc_8785_writes_them(bits: int, text: str) -> None:
    (value,) = struct.unpack(">d", bits.to_bytes(8, "big"))
    assert number(value) == text


finite = st.floats(allow_nan=False, allow_infinity=False)
safe_ints = st.integers(-SAFE_INT, SAFE_INT)
# Any Unicode text but unpaired surrogates (which nothing can encode), NUL and controls included.
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | safe_ints | finite | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=20,
)


@given(value=json_values)
@settings(max_examples=500)
def test_the_same_text_as_the_reference_implementation(value: Any) -> None:
    assert canonical(value) == rfc8785.dumps(value).decode("utf-8")


@given(value=json_values)
@settings(max_examples=300)
def test_the_text_is_a_fixed_point(value: Any) -> None:
    """Parsing the text and writing it again gives the same bytes: what verification reads back from a
    text column hashes to what was hashed."""
    text = canonical(value)
    assert canonical(json.loads(text)) == text


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, {"x": [math.nan]}, "\ud800", {"\udfff": 1}])
def test_what_json_cannot_hold_is_refused(store: Store, bad: Any) -> None:
    with pytest.raises(ValueError):
        canonical(bad)
    with pytest.raises(ValueError):
        audit.append(store, "adam", "placeholder.action", details={"v": bad})
    assert audit.entries(store) == [] and audit.verify(store).ok


def test_integers_beyond_a_double_keep_every_digit() -> None:
    assert canonical([2**53 + 1, -(10**40)]) == f"[{2**53 + 1},{-(10**40)}]"


# ---- on both stores -------------------------------------------------------------------------------------

numbers = (
    finite
    | st.integers()  # huge ones too
    | st.sampled_from([1e16, -0.0, 1e21, 1e-7, 5e-324, 2.0**53, float(2**63), 1e300])
)


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON numbers compare (-0.0 is 0, 1e16 is 10000000000000000)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return float(a) == float(b) if isinstance(a, float) or isinstance(b, float) else a == b
    return bool(a == b)


@given(values=st.lists(numbers, min_size=1, max_size=8), words=st.lists(texts, max_size=4))
@HYPO
def test_numbers_and_unicode_verify_on_both_stores(store: Store, values: list[Any], words: list[str]) -> None:
    details = {"numbers": values, "words": words, **{w: len(w) for w in words}}
    audit.append(store, "adam", "setting.change", "setting", "placeholder", details)
    set_setting(store, "placeholder.values", values, "adam")
    result = audit.verify_since_checkpoint(store)
    assert result.ok, (result.reason, details)
    shown = audit.entries(store, 2)[1].details
    assert _same(shown, details)


# ---- chains written before, and ids that skip -------------------------------------------------------


def _old_entry(store: Store, actor: str, details: dict[str, Any]) -> None:
    """An entry as the log wrote them before hash versions: JSONB details, Python's JSON hashed."""
    with store.write() as conn:
        prev = conn.execute(select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)).scalar()
        prev = prev or audit.GENESIS
        at = utcnow() - timedelta(days=1)
        digest = entry_hash(prev, at, actor, "login", "user", actor, details)
        conn.execute(
            audit_log.insert().values(
                at=at,
                actor=actor,
                action="login",
                target_type="user",
                target_id=actor,
                details=details,
                prev_hash=prev,
                hash=digest,
            )
        )


def test_a_chain_written_before_stays_verifiable(store: Store) -> None:
    for n in range(3):
        _old_entry(store, f"user{n}", {"n": n, "word": "placeholder"})
    audit.append(store, "adam", "setting.change", details={"new": 1e16})
    result = audit.verify(store)
    assert result.ok and result.entries == 4, result.reason
    versions = [e.hash_version for e in _rows(store)]
    assert versions == [None, None, None, audit.HASH_VERSION]
    # Old and new entries alike still report an edit.
    with store.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == 2).values(details={"n": 99, "word": "x"}))
    broken = audit.verify(store)
    assert not broken.ok and broken.first_broken == 2


def _rows(store: Store) -> list[Any]:
    with store.read() as conn:
        return list(conn.execute(select(audit_log).order_by(audit_log.c.id)))


def test_an_edit_of_the_kept_text_is_reported(store: Store) -> None:
    for n in range(3):
        audit.append(store, "adam", "placeholder.action", details={"n": n})
    with store.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == 2).values(details_jcs='{"n":7}'))
    broken = audit.verify(store)
    assert not broken.ok and broken.first_broken == 2 and "content" in broken.reason


def test_an_id_spent_by_a_rolled_back_append_is_no_tamper_alarm(store: Store) -> None:
    """On PostgreSQL a rolled-back transaction spends its sequence number: the ids skip, the links hold."""
    audit.append(store, "adam", "placeholder.action", details={"n": 1})
    assert audit.verify(store).ok  # a checkpoint at entry 1
    with pytest.raises(RuntimeError), store.write() as conn:
        audit.append_in(conn, "adam", "placeholder.action", details={"n": 2})
        raise RuntimeError("the action failed after its audit entry was written")
    audit.append(store, "adam", "placeholder.action", details={"n": 3})
    ids = [r.id for r in _rows(store)]
    if store.dialect == "postgresql":
        assert ids == [1, 3]  # the gap the old rule called "entry 2 is missing"
    assert audit.verify_since_checkpoint(store).ok
    full = audit.verify(store)
    assert full.ok and full.entries == 2, full.reason
    # A deletion still shows: the next entry's link, or for the last entry, the checkpoint.
    audit.append(store, "adam", "placeholder.action", details={"n": 4})
    with store.engine.begin() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.id == ids[1]))
    assert not audit.verify(store).ok
    with store.engine.begin() as conn:
        count = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
    assert count == 2


def test_what_the_hash_covers_is_the_kept_text(store: Store) -> None:
    audit.append(store, "adam", "setting.change", "setting", "k", {"new": 1e16, "é": "\x00"})
    (row,) = _rows(store)
    assert row.details_jcs == '{"new":10000000000000000,"é":"\\u0000"}'
    body = audit.canonical_body(
        row.prev_hash, row.at, "adam", "setting.change", "setting", "k", row.details_jcs
    )
    assert hashlib.sha256(body.encode()).hexdigest() == row.hash
    assert json.loads(body)[0] == audit.HASH_VERSION
