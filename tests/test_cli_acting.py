"""The command line's one rule for roles (issue 16 #17): the role is the account's, never a flag's.

``vigil reveal --actor ana --role dpo`` revealed an identity although ana's account is an analyst's,
while ``vigil referral`` refused the same claim. Every command that takes ``--actor`` or ``--role`` is
found in the command tree and checked here, so a new one that does not follow the rule fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer

from tests.privacy_helpers import EMAIL, cli, make_item
from tests.workflow_helpers import FAST_HASHER, PASSWORD
from vigil.audit import log as audit
from vigil.cli import build_app
from vigil.cli.acting import GIVES_ROLE, NAME_COMMANDS, ROLE_COMMANDS
from vigil.core.model import Case
from vigil.errors import UsageError
from vigil.store import Store
from vigil.workflow import accounts


def _commands(group: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf command under ``group`` by its path (Typer vendors its own Click: duck typing)."""
    found: dict[str, Any] = {}
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if hasattr(command, "commands"):
            found.update(_commands(command, path + " "))
        else:
            found[path] = command
    return found


def _taking(option: str) -> set[str]:
    root = typer.main.get_command(build_app())
    assert hasattr(root, "commands")
    return {
        path
        for path, command in _commands(root).items()
        if any(option in getattr(p, "opts", ()) for p in command.params)
    }


def test_every_command_taking_an_actor_or_a_role_follows_the_rule() -> None:
    with_role, with_actor = _taking("--role"), _taking("--actor")
    assert with_role, "no command takes --role: the tree was not walked"
    # Every command with --role is one whose role comes from the account, and only those have it (but
    # ``vigil user add``, whose --role is the role it gives the new account).
    assert with_role == set(ROLE_COMMANDS) | set(GIVES_ROLE)
    # Every command with --actor is classified: its role comes from the account, or it takes none.
    assert with_actor == set(ROLE_COMMANDS) | set(NAME_COMMANDS)
    assert not set(NAME_COMMANDS) & with_role


def _users(store: Store) -> None:
    for name, role in (("ana", "analyst"), ("dana", "dpo"), ("adam", "admin")):
        accounts.add_user(store, name, role, PASSWORD, hasher=FAST_HASHER)


def test_a_claimed_role_reveals_nothing(home: Path, store: Store, database_url: str) -> None:
    """The regression: ana (an analyst) claiming dpo was shown the clear identity."""
    _users(store)
    item = make_item(1, email=EMAIL)
    store.add_items([item])
    (case_id,) = store.open_cases([Case(None, item.id, title="placeholder")])
    got = store.get_item(item.id)
    assert got is not None
    pseudonym = str(got.meta["email"])
    args = ["reveal", str(case_id), pseudonym, "--reason-code", "referral_check", "--reason", "checking it"]

    claimed = cli([*args, "--actor", "ana", "--role", "dpo"], home, database_url)
    assert isinstance(claimed.exception, UsageError), claimed.output
    assert "'analyst', not 'dpo'" in str(claimed.exception) and EMAIL not in claimed.output
    assert not [e for e in audit.entries(store) if e.action == "privacy.reveal"]
    # The dpo's account reveals without claiming anything; a true claim changes nothing.
    for extra in ([], ["--role", "dpo"]):
        shown = cli([*args, "--actor", "dana", *extra], home, database_url)
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.stdout.splitlines()[-1])["value"] == EMAIL
    # Without an account there is no role at all, whatever is claimed.
    ghost = cli([*args, "--actor", "ghost", "--role", "dpo"], home, database_url)
    assert isinstance(ghost.exception, UsageError) and "no active vigil account" in str(ghost.exception)


def _args(command: str, tmp: Path) -> list[str]:
    """Each command's required arguments, naming things that need not exist: the account check comes
    before anything is looked up."""
    reason = ["--reason-code", "referral_check", "--reason", "checking this one"]
    return {
        "reveal": ["reveal", "1", "psa_placeholder", *reason],
        "audit reveal": ["audit", "reveal", "1", *reason],
        "hold lift": ["hold", "lift", "1"],
        "dnr list": ["dnr", "list"],
        "dnr lift": ["dnr", "lift", "1"],
        "privacy grant": ["privacy", "grant", "vic"],
        "privacy revoke": ["privacy", "revoke", "vic"],
        "referral order": ["referral", "order", "1", "--ground", "a", "--reasons", "placeholder"],
        "referral notice": ["referral", "notice", "1", "--reasons", "placeholder"],
        "referral refer": ["referral", "refer", "1", "--reasons", "placeholder"],
        "referral send": ["referral", "send", "1"],
        "referral reply": ["referral", "reply", "1", "--kind", "acknowledgement"],
        "referral batch": [
            "referral",
            "batch",
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-02",
            "--out",
            str(tmp),
        ],
    }[command]


@pytest.mark.parametrize("command", sorted(ROLE_COMMANDS))
def test_every_role_command_takes_the_role_from_the_account(
    command: str, home: Path, store: Store, database_url: str, tmp_path: Path
) -> None:
    _users(store)
    args = _args(command, tmp_path / "out")
    before = len(audit.entries(store, 1000))

    claimed = cli([*args, "--actor", "ana", "--role", "dpo"], home, database_url)
    assert isinstance(claimed.exception, UsageError), (command, claimed.output)
    assert "the role is the account's" in str(claimed.exception)
    ghost = cli([*args, "--actor", "ghost"], home, database_url)
    assert isinstance(ghost.exception, UsageError), (command, ghost.output)
    assert "no active vigil account" in str(ghost.exception)
    # Refused before anything was done: not even a refusal reached the audit log.
    assert len(audit.entries(store, 1000)) == before
    # The account itself gets past the check (what follows may still refuse, for its own reasons).
    own = cli([*args, "--actor", "ana"], home, database_url)
    assert "account" not in str(own.exception or ""), (command, own.exception)
