"""``vigil evidence``: capture, export, verify. Legal holds on evidence are ``vigil hold add case|capture``
and due evidence is deleted by ``vigil retention run`` (one hold concept, one retention job)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.cli.common import err, load_config, open_store, print_json
from vigil.errors import UsageError, VigilError

evidence_app = typer.Typer(help="Evidence: capture, signed export bundles, verification.")

Actor = Annotated[str, typer.Option("--actor", help="Who is doing this (recorded in the audit log).")]


@evidence_app.command("capture")
def capture(
    url: Annotated[str | None, typer.Argument(help="The http(s) URL to capture.")] = None,
    case: Annotated[int | None, typer.Option("--case", help="Attach the capture to this case.")] = None,
    confirmed: Annotated[
        bool, typer.Option("--confirmed", help="Capture every confirmed case that has no capture yet.")
    ] = False,
    render: Annotated[
        bool | None,
        typer.Option(
            "--render/--no-render",
            help="Also load the page in headless Chromium and keep its rendered DOM and a screenshot "
            "(default: config [evidence] render).",
        ),
    ] = None,
    actor: Actor = "cli",
) -> None:
    """Fetch URL with its redirects, media and DNS answers; store a WARC and the hashes of every part."""
    from vigil.evidence.capture import capture_url

    config = load_config()
    if confirmed:
        from vigil.cli.common import RichProgress
        from vigil.evidence.confirmed import capture_confirmed

        with open_store(config) as store, RichProgress(label="cases") as progress:
            progress.task("capturing")
            summary = capture_confirmed(store, config, actor, progress=progress.advance, render=render)
        for failure in summary["failed"]:
            err.print(f"[yellow]case {failure['case_id']}[/] {failure['url']}: {failure['reason']}")
        print_json(summary)
        return
    if not url:
        raise UsageError("give a URL, or --confirmed")
    with open_store(config) as store:
        result = capture_url(store, config, url, case_id=case, actor=actor, render=render)
    err.print(
        f"captured [bold]{url}[/] as capture {result.id}: "
        f"HTTP {result.status_code}, {len(result.parts)} parts"
    )
    print_json(result.to_dict())


@evidence_app.command("export")
def export(
    case: Annotated[int, typer.Argument(help="The case whose evidence to export.")],
    out: Annotated[Path, typer.Option("--out", help="The zip file to write.")],
    actor: Actor = "cli",
) -> None:
    """Write a signed bundle: WARCs, media, texts, DNS answers, the case history and a manifest."""
    from vigil.evidence.bundle import export_bundle

    config = load_config()
    with open_store(config) as store:
        summary = export_bundle(store, config, case, out, actor=actor)
    err.print(f"wrote [bold]{out}[/]: {summary['files']} files, key {summary['key_fingerprint'][:16]}")
    print_json(summary)


@evidence_app.command("verify")
def verify(
    bundle: Annotated[Path, typer.Argument(help="The bundle zip to check.")],
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="Only accept bundles signed by this PEM key.")
    ] = None,
) -> None:
    """Say "intact" (exit 0) only if every file's hash and the manifest's signature check out."""
    from vigil.evidence.bundle import verify_bundle

    if not bundle.is_file():
        raise UsageError(f"{bundle}: no such file")
    trusted = public_key.read_bytes() if public_key else None
    report = verify_bundle(bundle, load_config(), trusted)
    if report.ok:
        typer.echo(f"intact ({report.files} files, key {report.key_fingerprint[:16]})")
        return
    typer.echo(f"NOT intact: {report.file}: {report.message}")
    raise VigilError(f"{bundle} is not intact: first difference in {report.file}")


def register(app: typer.Typer) -> None:
    app.add_typer(evidence_app, name="evidence")
