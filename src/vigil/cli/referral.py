"""``vigil referral``: resolve the provider, make documents, deliver them, record replies, batch an action
day. ``vigil recheck`` runs the re-checks once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from vigil.cli.acting import Role, acting
from vigil.cli.common import RichProgress, err, load_config, open_store, print_json
from vigil.errors import UsageError, VigilError

referral_app = typer.Typer(help="Referrals: provider resolution, removal orders, notices, delivery, replies.")

Actor = Annotated[str, typer.Option("--actor", help="Who is doing this (recorded in the audit log).")]
#: The actor of a command that acts in a workflow role: a vigil account (default: the login name).
Account = Annotated[
    str,
    typer.Option("--actor", help="Who does this: a vigil account (default: the login name), in its role."),
]
Lang = Annotated[str, typer.Option("--lang", help="Language of the document's strings.")]
Urls = Annotated[
    list[str] | None, typer.Option("--url", help="URL(s) to name; default: the case's item URL.")
]


def parse_date(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(f"not an ISO date/time: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _recipient(store: Any, config: Any, url: str) -> dict[str, Any]:
    from vigil.referral.resolve import ProviderResolver

    with ProviderResolver(store, config) as resolver:
        provider = resolver.resolve(url)
    for problem in provider.errors:
        err.print(f"[yellow]resolution:[/] {problem}")
    return provider.recipient


@referral_app.command("resolve")
def resolve(url: Annotated[str, typer.Argument()]) -> None:
    """Who hosts URL: platform, registrar, network, ASN, CDN, and where a referral would go."""
    from vigil.referral.resolve import ProviderResolver

    config = load_config()
    with open_store(config) as store, ProviderResolver(store, config) as resolver:
        print_json(resolver.resolve(url).to_dict())


def _create(
    kind: str, case: int, urls: list[str] | None, actor: str, role: list[str] | None, lang: str, **kw: Any
) -> None:
    from vigil.referral.documents import case_urls, create_document

    config = load_config()
    with open_store(config) as store:
        who = acting(store, actor, role)
        targets = urls or case_urls(store, case)
        if not targets:
            raise UsageError(f"case {case} has no URL; pass --url")
        recipient = _recipient(store, config, targets[0])
        doc = create_document(
            store,
            config,
            case,
            kind,
            recipient,
            who.name,
            role=who.role,
            urls=targets,
            lang=lang,
            **kw,
        )
    name = kind.replace("_", " ")
    err.print(
        f"{name} [bold]{doc['reference']}[/] (document {doc['id']}) to {recipient.get('name')}:"
        " drafted; it can be sent once a second person approves the case"
    )
    print_json(doc)


@referral_app.command("order")
def order(
    case: Annotated[int, typer.Argument()],
    ground: Annotated[list[str], typer.Option("--ground", help="Art. 2(7) ground: a, b, c, d or e.")],
    reasons: Annotated[str, typer.Option("--reasons", help="Further reasons (Annex I section B).")],
    url: Urls = None,
    withhold_weeks: Annotated[
        int, typer.Option("--withhold-weeks", help="Art. 11(3): keep the content provider uninformed (1-6).")
    ] = 0,
    actor: Account = "",
    role: Role = None,
    lang: Lang = "en",
) -> None:
    """Draft an EU removal order (Annex I of Regulation 2021/784) for a decided case: it proposes the case."""
    _create(
        "removal_order",
        case,
        url,
        actor,
        role,
        lang,
        grounds=ground,
        reasons=reasons,
        withhold_weeks=withhold_weeks,
    )


@referral_app.command("notice")
def notice(
    case: Annotated[int, typer.Argument()],
    reasons: Annotated[str, typer.Option("--reasons")],
    url: Urls = None,
    actor: Account = "",
    role: Role = None,
    lang: Lang = "en",
) -> None:
    """Draft a DSA Article 16 notice for a case decided for a notice."""
    _create("dsa_notice", case, url, actor, role, lang, reasons=reasons)


@referral_app.command("refer")
def refer(
    case: Annotated[int, typer.Argument()],
    reasons: Annotated[str, typer.Option("--reasons")],
    url: Urls = None,
    actor: Account = "",
    role: Role = None,
    lang: Lang = "en",
) -> None:
    """Draft a referral for voluntary review under the provider's terms for a case decided to refer."""
    _create("voluntary_referral", case, url, actor, role, lang, reasons=reasons)


@referral_app.command("pdf")
def pdf(document: Annotated[int, typer.Argument()], out: Annotated[Path, typer.Option("--out")]) -> None:
    """Render a stored document to PDF."""
    from vigil.referral.documents import get_document
    from vigil.referral.pdf import render_pdf

    config = load_config()
    with open_store(config) as store:
        doc = get_document(store, document)
    out.write_bytes(render_pdf(doc["body"], config))
    print_json({"document": document, "out": str(out)})


@referral_app.command("send")
def send(
    document: Annotated[int, typer.Argument()],
    email: Annotated[
        str | None, typer.Option("--email", help="Send by e-mail (default: the addressee).")
    ] = None,
    webhook: Annotated[
        str | None, typer.Option("--webhook", help="POST to this signed webhook instead.")
    ] = None,
    override_reason: Annotated[
        str | None,
        typer.Option(
            "--override-reason",
            help="Send to an address or URL the registry does not list for the provider, for this reason"
            " (needs a role in [referral] override_roles: --override-by).",
        ),
    ] = None,
    override_by: Annotated[
        str | None,
        typer.Option("--override-by", help="Who allows the override: a vigil account (default: --actor)."),
    ] = None,
    override_role: Annotated[
        list[str] | None,
        typer.Option(
            "--override-role", help="Optional check of their role (refused if it is not their account's)."
        ),
    ] = None,
    actor: Account = "",
    role: Role = None,
) -> None:
    """Deliver an approved document by e-mail (SMTP with STARTTLS) or signed webhook, to a destination the
    registry lists for its provider unless an override (reason, allowed role) says otherwise."""
    from vigil.referral.destinations import DestinationOverride
    from vigil.referral.documents import get_document
    from vigil.referral.drafting import addressee_email
    from vigil.referral.mail import send_email
    from vigil.referral.webhook import send_webhook

    config = load_config()
    with open_store(config) as store:
        who = acting(store, actor, role)
        doc = get_document(store, document)
        override = None
        if override_reason is not None or override_by is not None or override_role is not None:
            by = acting(store, override_by or who.name, override_role)
            override = DestinationOverride(override_reason or "", by.name, by.role)
        if webhook:
            rc = send_webhook(store, config, doc, webhook, who.name, role=who.role, override=override)
        else:
            to = email or addressee_email(doc["body"])
            rc = send_email(store, config, doc, to, who.name, role=who.role, override=override)
    print_json({"document": document, "delivered": rc == 0})
    if rc:
        raise VigilError(f"delivery of document {document} failed (see the case history)")


@referral_app.command("reply")
def reply(
    document: Annotated[int, typer.Argument()],
    kind: Annotated[
        str,
        typer.Option(
            "--kind", help="acknowledgement, annex_ii, annex_iii, obstacle_ended, complaint, reinstatement."
        ),
    ],
    data: Annotated[str, typer.Option("--data", help="JSON object with the reply's fields.")] = "{}",
    at: Annotated[str | None, typer.Option("--at", help="When the reply came (ISO); default now.")] = None,
    actor: Account = "",
    role: Role = None,
) -> None:
    """Record a provider's reply (Annex II confirmation, Annex III impossibility with reasons, ...)."""
    from vigil.referral.replies import record_reply

    try:
        fields = json.loads(data)
    except ValueError as exc:
        raise UsageError(f"--data is not JSON: {exc}") from exc
    if not isinstance(fields, dict):
        raise UsageError("--data must be a JSON object")
    config = load_config()
    with open_store(config) as store:
        who = acting(store, actor, role)
        when = parse_date(at) if at else None
        print_json(record_reply(store, document, kind, who.name, fields, when, role=who.role))


@referral_app.command("batch")
def batch(
    start: Annotated[str, typer.Option("--from", help="First day/time (ISO).")],
    end: Annotated[str, typer.Option("--to", help="End (exclusive, ISO).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the CSV and JSON files.")],
    actor: Account = "",
    role: Role = None,
) -> None:
    """Write an action day's approved documents as CSV and JSON, one pair per provider, and record the
    hand-over; documents not cleared to go are listed under "skipped" with the reason."""
    from vigil.referral.batch import export_batch

    config = load_config()
    with open_store(config) as store:
        who = acting(store, actor, role)
        summary = export_batch(store, out, parse_date(start), parse_date(end), who.name, role=who.role)
    for skipped in summary["skipped"]:
        err.print(f"[yellow]skipped[/] document {skipped['document']}: {skipped['why']}")
    print_json(summary)


@referral_app.command("providers")
def providers() -> None:
    """The hosting-provider registry (shipped entries and $VIGIL_HOME/platforms.yaml), with what each still
    needs before a removal order can be addressed to it ("to_fill")."""
    from vigil.referral.registry import load_platforms

    for platform in load_platforms(load_config()):
        if platform.to_fill:
            err.print(f"{platform.key}: to be filled by the user: {', '.join(platform.to_fill)}")
        print_json(platform.to_dict())


def recheck(
    due: Annotated[
        bool, typer.Option("--due/--all", help="Only URLs whose next check is due (default).")
    ] = True,
    actor: Actor = "recheck",
) -> None:
    """Re-fetch referred URLs once: removed, still up, geo-blocked or reappeared; time to removal."""
    from vigil.referral.recheck import run_rechecks

    config = load_config()
    with open_store(config) as store, RichProgress(label="URLs") as progress:
        progress.task("re-checking")
        summary = run_rechecks(store, config, due_only=due, actor=actor, progress=progress.advance)
    for removed in summary.removed:
        hours = (removed.get("time_to_removal_s") or 0) / 3600
        err.print(f"case {removed['case_id']}: [green]removed[/] {removed['url']} after {hours:.2f} h")
    print_json(summary.to_dict())


def register(app: typer.Typer) -> None:
    app.add_typer(referral_app, name="referral")
    app.command("recheck")(recheck)
