"""Lock-out under concurrent attempts, and what a password must be (issue 16 #4), on SQLite and PostgreSQL.

The failure count was read in one transaction and written in another: 40 parallel wrong passwords each
read the same count, and the account was never locked. Now each attempt claims its try atomically before
the password is checked, so at most ``MAX_FAILURES`` passwords are checked before the lock, however many
attempts arrive at once, from threads of one server or from separate processes.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import re
import threading
from importlib.resources import files
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.workflow_helpers import FAST_HASHER, PASSWORD, make_users
from vigil.audit import log as audit
from vigil.boot import open_store
from vigil.config import Config
from vigil.errors import UsageError
from vigil.store import Store
from vigil.web.app import create_app
from vigil.web.server import serve_in_thread
from vigil.workflow import accounts
from vigil.workflow.errors import AuthError
from vigil.workflow.passwords import MIN_PASSWORD, common_passwords, password_problem

# Slow enough a check (about 10 ms) that concurrent attempts overlap, as with the real parameters.
SLOWER = PasswordHasher(time_cost=2, memory_cost=8192, parallelism=1)
ATTEMPTS = 40


def _checked_and_locked(store: Store) -> tuple[int, bool]:
    """How many wrong passwords were actually checked, and whether the right one is refused now."""
    failures = [e for e in audit.entries(store, 1000) if e.action == "auth.login_failed"]
    checked = sum(1 for e in failures if e.details["why"].startswith("wrong password"))
    try:
        accounts.authenticate(store, "ana", PASSWORD)
    except AuthError as exc:
        return checked, "locked" in str(exc)
    return checked, False


def test_parallel_wrong_passwords_lock_the_account(store: Store, config: Config, database_url: str) -> None:
    accounts.add_user(store, "ana", "analyst", PASSWORD, hasher=SLOWER)
    # Separate stores (separate connections and write locks, as separate servers have), several threads each.
    stores = [open_store(config, url=database_url, migrate_schema=False) for _ in range(4)]
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list[str] = []

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            accounts.authenticate(stores[n % len(stores)], "ana", f"wrong guess {n}")
            outcomes.append("in")
        except AuthError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(ATTEMPTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for s in stores:
        s.close()
    assert len(outcomes) == ATTEMPTS and "in" not in outcomes
    checked, locked = _checked_and_locked(store)
    assert locked, "40 parallel wrong passwords did not lock the account"
    assert 1 <= checked <= accounts.MAX_FAILURES
    assert sum("locked" in o for o in outcomes) >= ATTEMPTS - accounts.MAX_FAILURES


def _guess_from_a_process(url: str, home: str, n: int, start: float) -> str:
    import time

    from vigil.store import Store as ChildStore

    store = ChildStore.open(Config.load(Path(home)), url=url, migrate_schema=False)
    time.sleep(max(0.0, start - time.time()))
    try:
        accounts.authenticate(store, "ana", f"wrong guess {n}")
        return "in"
    except AuthError as exc:
        return str(exc)
    finally:
        store.close()


@pytest.mark.slow
def test_parallel_processes_lock_the_account(store: Store, home: Path, database_url: str) -> None:
    import time

    accounts.add_user(store, "ana", "analyst", PASSWORD, hasher=SLOWER)
    context = multiprocessing.get_context("spawn")
    start = time.time() + 8  # every process is up and has opened its store by then
    with context.Pool(6) as pool:
        outcomes = pool.starmap(
            _guess_from_a_process, [(database_url, str(home), n, start) for n in range(12)]
        )
    assert "in" not in outcomes
    checked, locked = _checked_and_locked(store)
    assert locked and 1 <= checked <= accounts.MAX_FAILURES


def test_parallel_requests_through_the_api(store: Store, config: Config) -> None:
    """The attack as it was made: many parallel wrong passwords against POST /api/v1/auth/token."""
    accounts.add_user(store, "ana", "analyst", PASSWORD, hasher=SLOWER)
    with serve_in_thread(create_app(config, store)) as url:
        barrier = threading.Barrier(ATTEMPTS)
        codes: list[int] = []

        def attempt(n: int) -> None:
            with httpx.Client(base_url=url, timeout=60) as client:
                barrier.wait()
                body = {"username": "ana", "password": f"wrong guess {n}"}
                codes.append(client.post("/api/v1/auth/token", json=body).status_code)

        threads = [threading.Thread(target=attempt, args=(n,)) for n in range(ATTEMPTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert codes == [401] * ATTEMPTS
        with httpx.Client(base_url=url) as client:
            right = client.post("/api/v1/auth/token", json={"username": "ana", "password": PASSWORD})
        assert right.status_code == 401 and "locked" in right.json()["reason"]


def test_a_success_gives_the_tries_back(store: Store) -> None:
    accounts.add_user(store, "ana", "analyst", PASSWORD, hasher=FAST_HASHER)
    for _ in range(2):
        for n in range(accounts.MAX_FAILURES - 1):
            with pytest.raises(AuthError, match="wrong"):
                accounts.authenticate(store, "ana", f"wrong guess {n}")
        assert accounts.authenticate(store, "ana", PASSWORD).role == "analyst"
    for n in range(accounts.MAX_FAILURES):
        with pytest.raises(AuthError):
            accounts.authenticate(store, "ana", f"wrong guess {n}")
    with pytest.raises(AuthError, match="locked"):
        accounts.authenticate(store, "ana", PASSWORD)
    with pytest.raises(AuthError, match="wrong user name"):
        accounts.authenticate(store, "nobody", PASSWORD)


# ---- what a password must be -----------------------------------------------------------------------


def test_the_common_password_list_ships_with_the_package_as_documented() -> None:
    folder = files("vigil.data").joinpath("passwords")
    data = folder.joinpath("common-passwords.txt.gz").read_bytes()
    notice = folder.joinpath("NOTICE.md").read_text("utf-8")
    documented = re.search(r"SHA-256 `([0-9a-f]{64})`", notice)
    assert documented and hashlib.sha256(data).hexdigest() == documented.group(1)
    assert "BSD 3-Clause" in notice and len(common_passwords()) == 19_640


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("x" * (MIN_PASSWORD - 1), "at least 12"),
        ("abcdef  " + "     ghi", "at least 12"),  # runs of spaces count as one
        ("qwerty123456", "common passwords"),
        (" Q1W2E3R4T5Y6 ", "common passwords"),  # without case and surrounding blanks
        ("x" * 1025, "at most 1024"),
    ],
)
def test_weak_passwords_are_refused_everywhere_a_password_is_set(
    store: Store, config: Config, password: str, why: str
) -> None:
    with pytest.raises(UsageError, match=why):
        accounts.add_user(store, "newbie", "analyst", password, hasher=FAST_HASHER)
    make_users(store)
    with serve_in_thread(create_app(config, store)) as url, httpx.Client(base_url=url) as client:
        token = client.post("/api/v1/auth/token", json={"username": "adam", "password": PASSWORD}).json()
        body = {"username": "newbie", "role": "analyst", "password": password}
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        refused = client.post("/api/v1/users", json=body, headers=headers)
    assert refused.status_code in (400, 422), refused.text
    assert accounts.get_user(store, "newbie") is None


def test_vigil_user_add_refuses_a_common_password(home: Path) -> None:
    from typer.testing import CliRunner

    from vigil.cli import build_app

    args = ["user", "add", "newbie", "--role", "analyst"]
    refused = CliRunner().invoke(build_app(args), args, input="qwerty123456\n")
    assert isinstance(refused.exception, UsageError) and "common" in str(refused.exception)
    added = CliRunner().invoke(build_app(args), args, input="a long placeholder phrase\n")
    assert added.exit_code == 0, added.output


@given(st.text(min_size=0, max_size=40))
@settings(max_examples=300)
def test_a_password_is_refused_exactly_when_short_or_common(password: str) -> None:
    length = len(re.sub(" {2,}", " ", password))
    common = password.strip().lower() in common_passwords()
    assert (password_problem(password) is None) == (length >= MIN_PASSWORD and not common)


@given(st.sampled_from(sorted(p for p in common_passwords() if len(p) >= MIN_PASSWORD)))
@settings(max_examples=50)
def test_no_long_common_password_passes(password: str) -> None:
    assert password_problem(password.upper()) is not None
