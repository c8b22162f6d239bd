"""The privacy commands end to end: submit, dnr, hold, reveal, report processing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.privacy_helpers import EMAIL, cli, make_item
from tests.workflow_helpers import add_accounts
from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import Case
from vigil.errors import UsageError
from vigil.privacy.reveal import RevealRefused
from vigil.store import Store


def _lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_submit_dnr_reveal_and_register(home: Path, config: Config, store: Store, database_url: str) -> None:
    shared = open_store(config, url=database_url)
    try:
        item = make_item(1, email=EMAIL)
        shared.add_items([item])
        (case_id,) = shared.open_cases([Case(None, item.id, title="placeholder")])
        got = shared.get_item(item.id)
        assert got is not None
        email_p = str(got.meta["email"])
        add_accounts(shared, dana="dpo", olga="investigator", alex="investigator")
    finally:
        shared.close()
    first = cli(["submit", "https://example.org/p/1", "--submitter", "ana", "--org", "a"], home, database_url)
    second = cli(
        ["submit", "https://example.org/p/1/", "--submitter", "ben", "--org", "b"], home, database_url
    )
    assert _lines(first.stdout)[0]["created"] is True
    assert _lines(second.stdout)[0] == {"case_id": _lines(first.stdout)[0]["case_id"], "created": False}

    refused = cli(
        [
            "reveal",
            str(case_id),
            email_p,
            "--reason-code",
            "referral_check",
            "--reason",
            "x",
            "--actor",
            "alex",
        ],
        home,
        database_url,
    )
    assert isinstance(refused.exception, RevealRefused)
    args = [
        "reveal",
        str(case_id),
        email_p,
        "--reason-code",
        "referral_check",
        "--reason",
        "checking before order",
    ]
    shown = cli([*args, "--actor", "dana", "--role", "dpo"], home, database_url)
    assert shown.exit_code == 0, shown.output
    assert _lines(shown.stdout)[0]["value"] == EMAIL

    added = cli(
        ["dnr", "add", "domain", "example.org", "--reason", "op y", "--actor", "olga"], home, database_url
    )
    entry = _lines(added.stdout)[0]
    assert entry["owner"] == "olga" and entry["value"] == "example.org"
    listed = cli(["dnr", "list", "--actor", "alex"], home, database_url)
    assert _lines(listed.stdout)[0]["reason"] is None
    assert cli(["dnr", "list", "--mine", "--actor", "alex"], home, database_url).stdout.strip() == ""
    own = cli(["dnr", "list", "--mine", "--actor", "olga"], home, database_url)
    assert [(e["id"], e["reason"]) for e in _lines(own.stdout)] == [(entry["id"], "op y")]
    refused_lift = cli(["dnr", "lift", str(entry["id"]), "--actor", "alex"], home, database_url)
    assert refused_lift.exception is not None and "owner" in str(refused_lift.exception)
    assert cli(["dnr", "lift", str(entry["id"]), "--actor", "olga"], home, database_url).exit_code == 0

    report = cli(["report", "processing", "--json"], home, database_url)
    register = json.loads(report.stdout)
    counts = {c["class"]: c["count"] for c in register["classes"]}
    assert counts["open_cases"] == 2 and counts["case_submitters"] == 2 and counts["accounts"] == 2
    assert register["reveals"]["reveals"] == 1 and register["reveals"]["refused"] == 1
    access = {(a["actor"], a["action"]): a["count"] for a in register["access"]}
    assert access[("dana", "privacy.reveal")] == 1 and access[("olga", "dnr.lift")] == 1
    assert access[("alex", "dnr.lift_refused")] == 1 and access[("ana", "case.submit")] == 1
    human = cli(["report", "processing"], home, database_url)
    assert human.exit_code == 0 and "raw_items" in human.stdout and "dana" in human.stdout
    assert "not configured" in human.stdout


def test_exit_codes_through_the_real_command(home: Path) -> None:
    env = {**os.environ, "VIGIL_HOME": str(home)}
    env.pop("VIGIL_DATABASE_URL", None)
    run = subprocess.run(
        [sys.executable, "-m", "vigil", "retention", "run", "--now", "not-a-date"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and "ISO 8601" in run.stderr
    # The same mapping for a bad value given to a core function.
    bad = cli(["dnr", "add", "sha256", "xyz", "--reason", "r"], home, f"sqlite:///{home / 'vigil.db'}")
    assert isinstance(bad.exception, UsageError) and "64 hexadecimal" in str(bad.exception)
