"""``vigil audit verify``: recompute the audit log's hash chain."""

from __future__ import annotations

import typer

from vigil.cli.common import err, load_config, open_store, print_json
from vigil.errors import VigilError
from vigil.workflow import audit

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


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
