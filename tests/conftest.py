"""Shared fixtures: a config under a temporary VIGIL_HOME, and stores on SQLite and on PostgreSQL.

The PostgreSQL store uses the server on 127.0.0.1:5432 (user postgres, trust auth): the session creates
its own database and drops it at the end. Set VIGIL_SKIP_POSTGRES=1 to skip those tests explicitly;
otherwise an unreachable server is a failure, not a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, inspect, text

from vigil.boot import open_store
from vigil.config import Config
from vigil.privacy.identities import guard_from_config
from vigil.store import Store

PG_ADMIN_URL = os.environ.get("VIGIL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# The machines that run the tests are shared and noisy: a property fails on a wrong answer, never on time.
settings.register_profile("vigil", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("vigil")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("VIGIL_HOME", str(path))
    monkeypatch.delenv("VIGIL_DATABASE_URL", raising=False)
    return path


@pytest.fixture
def config(home: Path) -> Config:
    return Config.load(home)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    if os.environ.get("VIGIL_SKIP_POSTGRES") == "1":
        pytest.skip("VIGIL_SKIP_POSTGRES=1")
    name = f"vigil_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_store_session(pg_url: str) -> Iterator[Store]:
    store = Store.open(url=pg_url)
    yield store
    store.close()


def _truncate_all(store: Store) -> None:
    tables = [t for t in inspect(store.engine).get_table_names() if t != "alembic_version"]
    names = ", ".join(f'"{t}"' for t in tables)
    with store.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.xdist_group("pg")])]
)
def store(request: pytest.FixtureRequest, config: Config) -> Iterator[Store]:
    """The contract fixture: every test using it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        sqlite_store = open_store(config)
        yield sqlite_store
        sqlite_store.close()
    else:
        pg: Store = request.getfixturevalue("pg_store_session")
        _truncate_all(pg)
        pg._known_accounts.clear()  # the store's memory of written accounts went with the tables
        # Pseudonym keys under this test's VIGIL_HOME, as open_store(config) does for SQLite: a CLI run in
        # a subprocess with the same home must derive the same pseudonyms as the store.
        pg.identities = guard_from_config(config)
        yield pg


@pytest.fixture
def database_url(store: Store) -> str:
    """The URL of the ``store`` fixture's database, for tests that run the CLI in a subprocess."""
    return store.engine.url.render_as_string(hide_password=False)
