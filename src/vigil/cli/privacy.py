"""``vigil retention``, ``vigil hold``, ``vigil dnr``, ``vigil report``, ``vigil reveal``, ``vigil submit``,
``vigil privacy``: thin wrappers over ``vigil.privacy``.

The command line trusts ``--actor`` and ``--role``: whoever runs it already holds the database and the
keys. People without that access go through the API, which authenticates them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vigil.cli.common import err, load_config, login_name, open_store, print_json
from vigil.cli.report import report_app  # `vigil report` is shared with the referral reports
from vigil.config import Config
from vigil.core.registry import RETENTION, plugins
from vigil.errors import UsageError
from vigil.net.smtp import SmtpSettings
from vigil.privacy import (
    access,
    deconfliction,
    holds,
    notify,
    notify_mail,
    retention,
    reveal,
    submissions,
)
from vigil.privacy.register import NOT_CONFIGURED, processing_register
from vigil.privacy.settings import PrivacySettings, RetentionPolicy

out = Console()

retention_app = typer.Typer(help="Delete what is due under the retention policy.", no_args_is_help=True)
hold_app = typer.Typer(
    help="Legal holds: keep items, cases, accounts or evidence whatever their age.", no_args_is_help=True
)
dnr_app = typer.Typer(
    help="The do-not-refer list checked before any referral, notice or order.", no_args_is_help=True
)
privacy_app = typer.Typer(help="Grant or revoke the right to reveal identities.", no_args_is_help=True)

Actor = Annotated[str, typer.Option("--actor", help="Who does this (default: the login name).")]
Roles = Annotated[
    list[str], typer.Option("--role", help="A role of the actor (repeatable), e.g. dpo, admin.")
]
AsJson = Annotated[bool, typer.Option("--json", help="JSON on stdout.")]


def _me() -> str:
    return login_name()


def parse_time(text: str | None, what: str = "--now") -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"{what}: not an ISO 8601 date or time: {text!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _hooks(config: Config) -> list[Any]:
    return [cls(config) for cls in plugins(RETENTION).values()]


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what is due; delete nothing.")] = False,
    now: Annotated[str | None, typer.Option("--now", help="Pretend it is this time (ISO 8601).")] = None,
    batch: Annotated[int | None, typer.Option("--batch", min=1, help="Rows per transaction.")] = None,
    actor: Actor = "retention",
    as_json: AsJson = False,
) -> None:
    """Delete raw items, dismissed and confirmed cases, evidence and orphans that are past retention."""
    config = load_config()
    policy = RetentionPolicy.from_config(config)
    if batch:
        policy.batch_size = batch
    with open_store(config) as store:
        report = retention.run_retention(
            store, policy, parse_time(now), dry_run, actor, _hooks(config), config.media_dir
        )
    if as_json:
        print_json(report.to_dict())
        return
    verb = "due" if dry_run else "deleted"
    table = Table("data class", verb, "held")
    for name, result in report.classes.items():
        table.add_row(name, str(result.due if dry_run else result.deleted), str(result.held))
    out.print(table)
    err.print(f"retention at {report.now.isoformat()}{' (dry run: nothing deleted)' if dry_run else ''}")


@retention_app.command("policy")
def retention_policy(as_json: AsJson = False) -> None:
    """Show the retention periods in force."""
    policy = RetentionPolicy.from_config(load_config()).to_dict()
    if as_json:
        print_json(policy)
        return
    for key, value in policy.items():
        out.print(f"{key:32} {'never deleted' if value is None else value}")


@hold_app.command("add")
def hold_add(
    target_type: Annotated[str, typer.Argument(help="item, case, account or capture (evidence)")],
    target_id: Annotated[str, typer.Argument(help="item id, case id, platform:handle, or capture id")],
    reason: Annotated[str, typer.Option("--reason", help="The proceedings' reference.")],
    actor: Actor = "",
) -> None:
    """Put an item, a case (with its evidence), an account or an evidence capture under legal hold."""
    with open_store(load_config()) as store:
        hold = holds.add_hold(store, actor or _me(), target_type, target_id, reason)
    print_json(hold.to_dict())


@hold_app.command("list")
def hold_list(all_: Annotated[bool, typer.Option("--all", help="Lifted holds too.")] = False) -> None:
    """List legal holds (JSON Lines)."""
    with open_store(load_config()) as store:
        for hold in holds.list_holds(store, all_):
            print_json(hold.to_dict())


@hold_app.command("lift")
def hold_lift(hold_id: int, actor: Actor = "", role: Roles = []) -> None:  # noqa: B006
    """Lift a legal hold (its owner or an admin)."""
    with open_store(load_config()) as store:
        holds.lift_hold(store, actor or _me(), role, hold_id)
    err.print(f"legal hold {hold_id} lifted")


@dnr_app.command("add")
def dnr_add(
    kind: Annotated[str, typer.Argument(help="url, domain, account, channel, sha256 or pdq")],
    value: Annotated[str, typer.Argument(help="The URL, domain, platform:handle or hash.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (seen only by you and admins).")],
    expires: Annotated[str | None, typer.Option("--expires", help="Expiry, ISO 8601.")] = None,
    days: Annotated[
        int, typer.Option("--days", min=1, help="Expiry in days, if --expires is not given.")
    ] = 90,
    owner: Actor = "",
) -> None:
    """Add an entry to the do-not-refer list; you become its owner."""
    config = load_config()
    when = parse_time(expires, "--expires") or datetime.now(UTC) + timedelta(days=days)
    with open_store(config) as store:
        entry = deconfliction.add_entry(
            store, owner or _me(), kind, value, reason, when, PrivacySettings.from_config(config)
        )
    print_json(entry.to_dict())


@dnr_app.command("list")
def dnr_list(
    all_: Annotated[bool, typer.Option("--all", help="Expired and lifted entries too.")] = False,
    mine: Annotated[bool, typer.Option("--mine", help="Only the entries you own.")] = False,
    actor: Actor = "",
    role: Roles = [],  # noqa: B006
) -> None:
    """List do-not-refer entries (JSON Lines); reasons only for your own entries, or for admins."""
    me = actor or _me()
    with open_store(load_config()) as store:
        for entry in deconfliction.list_entries(store, me, role, all_, owner=me if mine else None):
            print_json(entry.to_dict())


@dnr_app.command("lift")
def dnr_lift(
    entry_id: int,
    note: Annotated[str, typer.Option("--note")] = "",
    actor: Actor = "",
    role: Roles = [],  # noqa: B006
) -> None:
    """Lift an entry (its owner or an admin)."""
    with open_store(load_config()) as store:
        deconfliction.lift_entry(store, actor or _me(), role, entry_id, note)
    err.print(f"do-not-refer entry {entry_id} lifted")


@dnr_app.command("check")
def dnr_check(case_id: int, actor: Actor = "") -> None:
    """Check a case against the list now (the workflow gate does this before a referral)."""
    with open_store(load_config()) as store:
        blocks = deconfliction.check_case(store, case_id)
    print_json({"case_id": case_id, "blocked": bool(blocks), "contacts": sorted({b.contact for b in blocks})})


CHANNELS = ("email", "webhook")


@dnr_app.command("notify")
def dnr_notify(
    webhook: Annotated[
        str | None, typer.Option("--webhook", help="URL (default: [privacy] notify_webhook).")
    ] = None,
    via: Annotated[
        list[str] | None,
        typer.Option("--via", help="email or webhook (repeatable; default: every one configured)."),
    ] = None,
    actor: Actor = "",
) -> None:
    """Send pending do-not-refer notifications by e-mail ([privacy.notify_email] and [smtp]) and to a
    webhook ([privacy] notify_webhook). Exit 1 if any could not be delivered (they stay pending)."""
    config = load_config()
    settings = PrivacySettings.from_config(config)
    url = webhook or str(config.extra.get("privacy", {}).get("notify_webhook") or "")
    unknown = sorted(set(via or ()) - set(CHANNELS))
    if unknown:
        raise UsageError(f"--via: unknown channel {', '.join(unknown)}; known: {', '.join(CHANNELS)}")
    channels = list(via or [c for c, on in (("email", settings.notify_email), ("webhook", url)) if on])
    if not channels:
        raise UsageError(
            "nothing to deliver to: set [privacy.notify_email] (with [smtp]) or [privacy] notify_webhook,"
            " or give --webhook"
        )
    if "webhook" in channels and not url:
        raise UsageError("no webhook: give --webhook or set [privacy] notify_webhook")
    smtp = SmtpSettings.from_config(config) if "email" in channels else None
    failed = False
    with open_store(config) as store:
        if smtp is not None:
            run = notify_mail.deliver_email(store, smtp, settings, actor or _me())
            print_json(run.to_dict())
            if run.no_address:
                err.print(f"no e-mail address for {', '.join(run.no_address)} under [privacy.notify_email]")
            if run.error:
                err.print(f"e-mail: {escape(run.error)}; nothing is lost, the notifications stay pending")
            failed = failed or bool(run.failed or run.error)
        if "webhook" in channels:
            result = notify.deliver_webhook(store, config, url)
            print_json({"channel": "webhook", "delivered": result.delivered, "failed": result.failed})
            failed = failed or bool(result.failed)
    if failed:
        raise typer.Exit(1)


@report_app.command("processing")
def report_processing(as_json: AsJson = False) -> None:
    """What personal data vigil holds, per class: counts, retention, legal basis, and who accessed what."""
    config = load_config()
    with open_store(config) as store:
        counts = {h.data_class: h.count for h in _hooks(config) if callable(getattr(h, "count", None))}
        register = processing_register(
            store, PrivacySettings.from_config(config), RetentionPolicy.from_config(config), counts
        )
    if as_json:
        print_json(register)
        return
    state = "on" if register["pseudonymisation"]["enabled"] else "OFF"
    out.print(f"[bold]Processing register[/] ({register['generated_at']}), pseudonymisation {state}")
    table = Table("data class", "count", "contents", "retention", "legal basis")
    for c in register["classes"]:
        count = "n/a" if c["count"] is None else str(c["count"])
        table.add_row(*(escape(v) for v in (c["class"], count, c["holds"], c["retention"], c["legal_basis"])))
    out.print(table)
    if any(c["legal_basis"] == NOT_CONFIGURED for c in register["classes"]):
        out.print(escape("legal basis: set it per data class under [privacy.legal_basis] in config.toml"))
    reveals = register["reveals"]
    out.print(escape(f"reveals: {reveals['reveals']} {reveals['by_reason']}; refused: {reveals['refused']}"))
    out.print(escape(f"legal holds in force: {register['legal_holds'] or 'none'}"))
    access_table = Table("who", "did", "on", "times", "last")
    for a in register["access"]:
        access_table.add_row(
            a["actor"], a["action"], a["target_type"] or "", str(a["count"]), a["last_at"] or ""
        )
    out.print(access_table)


@report_app.command("reveals")
def report_reveals(
    since: Annotated[str | None, typer.Option("--since")] = None,
    until: Annotated[str | None, typer.Option("--until")] = None,
) -> None:
    """Reveals of identities, by reason, person and case (JSON)."""
    with open_store(load_config()) as store:
        print_json(reveal.reveal_report(store, parse_time(since, "--since"), parse_time(until, "--until")))


def reveal_cmd(
    case_id: Annotated[int, typer.Argument(help="The case the identity belongs to.")],
    pseudonym: Annotated[str, typer.Argument(help="psa_..., psh_... or platform:psa_...")],
    reason_code: Annotated[str, typer.Option("--reason-code", help=", ".join(reveal.REASON_CODES))],
    reason: Annotated[str, typer.Option("--reason", help="Why, in words (at least 10 characters).")],
    actor: Actor = "",
    role: Roles = [],  # noqa: B006
) -> None:
    """Reveal the clear identity behind a pseudonym of a case, with a reason (audited, time-limited)."""
    config = load_config()
    with open_store(config) as store:
        shown = reveal.reveal(
            store,
            actor or _me(),
            role,
            case_id,
            pseudonym,
            reason_code,
            reason,
            PrivacySettings.from_config(config),
        )
    print_json(shown.to_dict())


def submit_cmd(
    target: Annotated[str, typer.Argument(help="A URL or a SHA-256.")],
    submitter: Annotated[str, typer.Option("--submitter")],
    org: Annotated[str, typer.Option("--org")],
    note: Annotated[str, typer.Option("--note")] = "",
) -> None:
    """Report a URL or content hash; the same target reported again joins the same case."""
    with open_store(load_config()) as store:
        case_id, created = submissions.submit(store, target, submitter, org, note)
    print_json({"case_id": case_id, "created": created})


@privacy_app.command("grant")
def privacy_grant(grantee: str, actor: Actor = "", role: Roles = []) -> None:  # noqa: B006
    """Allow GRANTEE (e.g. a verifier) to reveal identities. Needs the dpo or admin role."""
    with open_store(load_config()) as store:
        access.grant(store, actor or _me(), role, grantee)
    err.print(f"{grantee} may now reveal identities")


@privacy_app.command("revoke")
def privacy_revoke(grantee: str, actor: Actor = "", role: Roles = []) -> None:  # noqa: B006
    """Withdraw GRANTEE's right to reveal identities."""
    with open_store(load_config()) as store:
        had = access.revoke(store, actor or _me(), role, grantee)
    err.print(f"{grantee} {'may no longer' if had else 'had no right to'} reveal identities")


def register(app: typer.Typer) -> None:
    app.add_typer(retention_app, name="retention")
    app.add_typer(hold_app, name="hold")
    app.add_typer(dnr_app, name="dnr")
    app.add_typer(privacy_app, name="privacy")
    app.command("reveal")(reveal_cmd)
    app.command("submit")(submit_cmd)
