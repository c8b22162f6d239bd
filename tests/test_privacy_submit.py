"""De-duplication: the same URL or hash from several submitters is one case with all of them recorded."""

from __future__ import annotations

import threading

import pytest

from tests.privacy_helpers import make_item, open_case
from vigil.audit import log as audit
from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import Media
from vigil.errors import UsageError
from vigil.privacy.submissions import submit, submitters
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
