"""De-duplication: the same URL or hash from several submitters is one case with all of them recorded."""

from __future__ import annotations

import itertools
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.privacy_helpers import make_item, open_case
from vigil.audit import log as audit
from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import Media
from vigil.errors import UsageError
from vigil.privacy.submissions import submit, submitters
from vigil.privacy.urls import normalise_url
from vigil.store import Store


def test_two_submissions_of_one_url_make_one_case_with_two_submitters(store: Store) -> None:
    first = submit(store, "https://www.example.net/post/1?utm_source=feed", "ana", "unit-a")
    second = submit(store, "http://example.net/post/1/", "ben", "partner-b")
    assert first[1] is True and second == (first[0], False)
    assert store.count("cases") == 1
    assert [(s.submitter, s.org) for s in submitters(store, first[0])] == [
        ("ana", "unit-a"),
        ("ben", "partner-b"),
    ]
    # The same person again adds nothing; a different URL is a different case.
    assert submit(store, "https://example.net/post/1", "ana", "unit-a") == (first[0], False)
    assert len(submitters(store, first[0])) == 2
    other, created = submit(store, "https://example.net/post/2", "ana", "unit-a")
    assert created and other != first[0]
    events = [e for e in audit.entries(store) if e.action == "case.submit"]
    assert len(events) == 4 and [e.details["created"] for e in reversed(events)] == [True, False, False, True]


def test_submission_joins_a_case_opened_by_detection(store: Store) -> None:
    pic = Media("d" * 64, "image/png", 3, kind="image")
    case_id = open_case(store, make_item(1, url="https://example.net/seen", media=[pic]))
    assert submit(store, "https://example.net/seen", "ana", "unit-a") == (case_id, False)
    assert submit(store, "D" * 64, "ben", "partner-b") == (case_id, False)
    assert submit(store, "e" * 64, "ben", "partner-b")[1] is True
    assert {s.kind for s in submitters(store, case_id)} == {"url", "sha256"}


def test_bad_submissions_are_refused_and_nothing_is_stored(store: Store) -> None:
    for target, who, org in (
        ("javascript:alert(1)", "ana", "unit-a"),
        ("not a url at all", "ana", "unit-a"),
        ("https://example.net/" + "a" * 9000, "ana", "unit-a"),
        ("https://example.net/ok", "", "unit-a"),
        ("https://example.net/ok", "ana", "x" * 500),
        ("https://[::1", "ana", "unit-a"),
    ):
        with pytest.raises(UsageError):
            submit(store, target, who, org)
    assert store.count("cases") == 0 and store.count("items") == 0


def test_concurrent_submissions_from_separate_processes_make_one_case(
    store: Store, config: Config, database_url: str
) -> None:
    """Separate Store objects (separate write locks, as separate processes have) race on one URL."""
    stores = [open_store(config, url=database_url) for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    results: list[tuple[int, bool]] = []

    def go(n: int) -> None:
        barrier.wait()
        results.append(submit(stores[n], "https://example.net/race", f"user{n}", "org"))

    threads = [threading.Thread(target=go, args=(n,)) for n in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for s in stores:
        s.close()
    assert len(results) == 4 and len({case_id for case_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert store.count("cases") == 1 and len(submitters(store, results[0][0])) == 4


def test_the_url_is_kept_as_submitted_and_normalised_only_to_match(store: Store) -> None:
    """Issue 16 #16: the case was referred and captured at the normalised address (https, no www., no
    tracking parameters), which nobody reported and an http-only site does not serve."""
    from vigil.referral.documents import case_urls

    given = "http://www.example.net/post/1?utm_source=feed&id=3"
    case_id, created = submit(store, f"  {given} ", "ana", "unit-a")
    assert created and case_urls(store, case_id) == [given]
    # Another spelling of the same page joins the case; the case keeps the first report's address and
    # each submitter's report is recorded as they gave it.
    assert submit(store, "https://example.net/post/1?id=3", "ben", "partner-b") == (case_id, False)
    assert case_urls(store, case_id) == [given]
    assert [s.value for s in submitters(store, case_id)] == [given, "https://example.net/post/1?id=3"]
    # Without a scheme: https is assumed, nothing else changes.
    other, _ = submit(store, "www.example.org/A?fbclid=x", "ana", "unit-a")
    assert case_urls(store, other) == ["https://www.example.org/A?fbclid=x"]


_SPELLINGS = st.tuples(
    st.sampled_from(["http://", "https://", "HTTP://", ""]),
    st.sampled_from(["", "www.", "WWW."]),
    st.sampled_from(["example.net", "Example.NET", "example.net:443", "example.net."]),
    st.sampled_from(["/a/b", "/a/b/", "/A%20b", "/"]),
    st.sampled_from(["", "?x=1", "?utm_source=s&x=1", "?fbclid=z&x=1&y=", "#frag"]),
)


@given(parts=_SPELLINGS)
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_spelling_is_stored_as_given(store: Store, parts: tuple[str, ...]) -> None:
    """The rule behind it: whatever the spelling, the item holds the URL as submitted (only a missing
    scheme is supplied), and equivalent spellings still meet in one case."""
    from vigil.referral.documents import case_urls

    scheme, www, host, path, tail = parts
    path = f"/{next(_RUN)}{path}"  # a page of its own for each example: the store is shared
    text = scheme + www + host + path + tail
    case_id, _ = submit(store, text, "ana", "unit-a")
    assert case_urls(store, case_id) == [text if "://" in text else "https://" + text]
    plain = "https://example.net" + path + tail
    again, _ = submit(store, plain, "ben", "org-b")
    assert (again == case_id) == (normalise_url(text) == normalise_url(plain))
    assert case_urls(store, case_id) == [text if "://" in text else "https://" + text]


_RUN = itertools.count()
