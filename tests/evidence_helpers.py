"""Shared set-up for the evidence and referral tests: a config that trusts the local servers, and a case."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields
from pathlib import Path

from vigil.config import Config
from vigil.core.model import Case, Item, make_item_id
from vigil.store import Store


def local_config(config: Config, dns_address: str, **settings: object) -> Config:
    """``config`` trusting the local servers. Each of ``settings`` is set where ``Config.load`` puts it: a
    typed setting (``ca_bundle``) on its field, anything else in ``extra``, so that a test sees what an
    operator's config.toml would give the code."""
    config.allow_private_addresses = True
    config.http_timeout = 5.0
    config.extra["dns_servers"] = [dns_address]
    typed = {f.name for f in fields(Config)} - {"extra", "home"}
    for key, value in settings.items():
        if key in typed:
            setattr(config, key, value)
        else:
            config.extra[key] = value
    return config


def make_case(store: Store, url: str, title: str = "placeholder case") -> int:
    item = Item(
        id=make_item_id("web", url), source="web", text="neutral placeholder text", url=url, native_id=url
    )
    store.add_items([item])
    (case_id,) = store.open_cases([Case(None, item.id, title=title, score=0.9)])
    return case_id


def write_local_config(home: Path, dns_address: str, **extra: object) -> None:
    """The same trust in the local servers, for commands run in a subprocess."""
    lines = ["allow_private_addresses = true", "http_timeout = 5.0", f'dns_servers = ["{dns_address}"]']
    lines += [f"{key} = {_toml(value)}" for key, value in extra.items()]
    (home / "config.toml").write_text("\n".join(lines) + "\n", "utf-8")


def _toml(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(args: list[str], home: Path) -> CliResult:
    """The real ``vigil`` command, run in this process (a subprocess per call costs seconds of imports).
    ``home`` must be the VIGIL_HOME the ``home`` fixture set."""
    from typer.testing import CliRunner

    from vigil.cli import build_app
    from vigil.errors import UsageError, VigilError

    assert os.environ.get("VIGIL_HOME") == str(home)
    result = CliRunner().invoke(build_app(args), args)
    code, stderr = result.exit_code, result.stderr
    if isinstance(result.exception, VigilError):
        code = 2 if isinstance(result.exception, UsageError) else 1
        stderr += f"vigil: error: {result.exception}\n"
    elif result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(code, result.stdout, stderr)


def review_to(store: Store, case_id: int, decision: str, actor: str = "ana") -> None:
    """The real review path up to a decision: an analyst triages, confirms and decides, through the
    workflow's transition function (roles, checks and all)."""
    from vigil.workflow.transition import transition

    transition(store, case_id, "triage", actor, "analyst", "looks relevant")
    transition(store, case_id, "confirmed", actor, "analyst", "confirmed against the evidence")
    transition(store, case_id, "decision", actor, "analyst", "decided", decision=decision)


def approve(store: Store, case_id: int, actor: str = "vera", role: str = "verifier") -> None:
    """The second pair of eyes: someone other than the proposer approves the proposal."""
    from vigil.workflow.transition import transition

    transition(store, case_id, "approved", actor, role, "checked the document and the evidence")


def decided_case(store: Store, url: str, decision: str = "removal_order") -> int:
    case_id = make_case(store, url)
    review_to(store, case_id, decision)
    return case_id
