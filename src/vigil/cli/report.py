"""``vigil report transparency``: the figures Art. 7/8 reports need, as HTML with charts and JSON."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import err, load_config, open_store, print_json
from vigil.cli.referral import parse_date

report_app = typer.Typer(help="Reports.")


@report_app.command("transparency")
def transparency(
    start: Annotated[str, typer.Option("--from", help="First day (ISO date).")],
    end: Annotated[str, typer.Option("--to", help="Last day, inclusive (ISO date).")],
    out: Annotated[Path | None, typer.Option("--out", help="Folder for report.html and report.json.")] = None,
) -> None:
    """Orders issued, executed, not executed and why, complaints, reinstatements; removal rate and time
    to removal per provider."""
    from vigil.referral.transparency import build_report, write_report

    config = load_config()
    with open_store(config) as store:
        last = parse_date(end)
        report = build_report(store, parse_date(start), last + timedelta(days=1) if len(end) == 10 else last)
    if out is not None:
        paths = write_report(report, out)
        err.print(f"wrote [bold]{paths['html']}[/] and {paths['json']}")
    print_json(report)


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
