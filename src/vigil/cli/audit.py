"""``vigil audit``: read the audit log (identifiers in free text masked), reveal one entry's free text with
a reason, and recompute the log's hash chain."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from vigil.audit import log as audit
from vigil.cli.acting import Actor, Role, acting
from vigil.cli.common import err, load_config, open_store, print_json
from vigil.errors import UsageError, VigilError
from vigil.privacy import reveal
from vigil.privacy.reveal_record import RECORDS, reveal_record
from vigil.privacy.settings import PrivacySettings
from vigil.privacy.views import audit_row

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@audit_app.command("verify")
def verify() -> None:
    """Check every entry's hash and link; exit 1 and name the first broken entry if the chain is broken."""
    with open_store(load_config()) as store:
        result = audit.verify(store)
    print_json(result.to_dict())
    if result.ok:
        err.print(f"[green]audit log intact[/]: {result.entries} entries")
        return
    raise VigilError(f"audit log broken at entry {result.first_broken}: {result.reason}")


@audit_app.command("list")
def list_entries(
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 100,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    target_type: Annotated[str | None, typer.Option("--target-type")] = None,
    target_id: Annotated[str | None, typer.Option("--target-id")] = None,
) -> None:
    """Entries as JSON Lines, newest first; identifiers typed into reasons and notes are masked
    (``vigil audit reveal`` shows one entry as stored)."""
    with open_store(load_config()) as store:
        for entry in audit.entries(store, limit, offset, target_type, target_id):
            print_json(asdict(audit_row(entry)))


@audit_app.command("reveal")
def reveal_cmd(
    record_id: Annotated[int, typer.Argument(help="The audit entry's (or history line's) id.")],
    reason_code: Annotated[str, typer.Option("--reason-code", help=", ".join(reveal.REASON_CODES))],
    reason: Annotated[str, typer.Option("--reason", help="Why, in words (at least 10 characters).")],
    record: Annotated[str, typer.Option("--record", help=" or ".join(RECORDS))] = "audit_log",
    actor: Actor = "",
    role: Role = None,
) -> None:
    """Show one entry's free text as stored, with a reason (audited, time-limited; dpo or a grant)."""
    if record not in RECORDS:
        raise UsageError(f"--record must be one of {', '.join(RECORDS)}")
    config = load_config()
    with open_store(config) as store:
        who = acting(store, actor, role)
        shown = reveal_record(
            store,
            who.name,
            who.roles,
            record,
            record_id,
            reason_code,
            reason,
            PrivacySettings.from_config(config),
        )
    print_json(shown.to_dict())


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
