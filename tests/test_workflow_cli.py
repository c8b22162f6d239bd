"""``vigil user add``, ``vigil audit verify`` and ``vigil serve`` as a user runs them (subprocesses)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from tests.workflow_helpers import FAST_HASHER
from vigil.audit import log as audit
from vigil.audit.log import audit_log
from vigil.errors import UsageError
from vigil.store import Store
from vigil.workflow import accounts

VIGIL = [sys.executable, "-m", "vigil"]


def _run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VIGIL, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120)


def _env(home: Path, database_url: str) -> dict[str, str]:
    return {**os.environ, "VIGIL_HOME": str(home), "VIGIL_DATABASE_URL": database_url}


def test_user_add_and_audit_verify(store: Store, home: Path, database_url: str) -> None:
    env = _env(home, database_url)
    added = _run(["user", "add", "ana", "--role", "analyst"], env, "a long enough password\n")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout) == {"username": "ana", "role": "analyst"}
    assert accounts.authenticate(store, "ana", "a long enough password").role == "analyst"
    with pytest.raises(UsageError, match="unknown role"):
        accounts.add_user(store, "bob", "pope", "a long enough password", hasher=FAST_HASHER)
    with pytest.raises(UsageError, match="exists"):
        accounts.add_user(store, "ana", "analyst", "another password", hasher=FAST_HASHER)
    with pytest.raises(UsageError, match="password"):
        accounts.add_user(store, "bob", "analyst", "short", hasher=FAST_HASHER)
    with pytest.raises(UsageError, match="user names"):
        accounts.add_user(store, "../etc", "analyst", "long enough pw", hasher=FAST_HASHER)
    ok = _run(["audit", "verify"], env)
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"] is True
    entries = audit.entries(store, 10)
    victim = entries[-1].id  # the first entry: user.add
    with store.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == victim).values(details_jcs='{"role":"admin"}'))
    broken = _run(["audit", "verify"], env)
    assert broken.returncode == 1
    assert json.loads(broken.stdout)["first_broken"] == victim
    assert f"entry {victim}" in broken.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_on_the_default_store(home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "VIGIL_DATABASE_URL"} | {"VIGIL_HOME": str(home)}
    port = _free_port()
    with subprocess.Popen(
        [*VIGIL, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as proc:
        _check_serving(proc, port, home)


def _check_serving(proc: subprocess.Popen[bytes], port: int, home: Path) -> None:
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                assert time.monotonic() < deadline, "vigil serve did not come up"
                time.sleep(0.2)
        assert response.status_code == 200 and "/api/v1/cases" in response.json()["paths"]
        assert httpx.get(f"http://127.0.0.1:{port}/", follow_redirects=False).headers["location"] == "/login"
        assert (home / "vigil.db").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
