"""Delivering do-not-refer notifications by e-mail (``vigil dnr notify --via email``), over the SMTP client
in ``vigil.net.smtp`` and its ``[smtp]`` settings. Addresses come from ``[privacy.notify_email]`` (user
name = address); owners without one keep their notifications in vigil only.

Each notification (each time it is raised: a new block on the same case re-arms it) is sent at most once:
a run first claims the rows it will send (a conditional update, so concurrent runs split the work), and
marks one delivered, in the same transaction as its audit entry, only once the server accepted it. A
refusal or a failure is recorded on the row with its reason (``mail_error``) and tried again after a
back-off that doubles per failure (``[privacy] notify_retry_s``, 60 s first, at most 6 hours). The one
window left is a crash between the server's acceptance and that commit: the same message (same
Message-ID) is then sent again after the claim lapses. The reason of the entry is never sent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from sqlalchemy import or_, select, update

from vigil.audit.log import append_in
from vigil.core.model import utcnow
from vigil.errors import ConfigError
from vigil.net.smtp import MailFailed, SmtpSession, SmtpSettings, body_text, header_text
from vigil.privacy.settings import PrivacySettings
from vigil.privacy.tables import notifications as n
from vigil.store import Store

CLAIM = timedelta(minutes=10)
LONGEST_WAIT = timedelta(hours=6)


@dataclass(slots=True)
class MailRun:
    delivered: list[int] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)  # id, error, next_at
    no_address: list[str] = field(default_factory=list)  # owners with pending notifications, no address
    error: str | None = None  # the server could not be reached or dropped the connection

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": "email",
            "delivered": len(self.delivered),
            "failed": self.failed,
            "no_address": self.no_address,
            "error": self.error,
        }


def retry_wait(settings: PrivacySettings, failures: int) -> timedelta:
    """How long to wait after the ``failures``-th failure in a row."""
    first = timedelta(seconds=settings.notify_retry_s)
    return min(first * 2 ** min(max(failures - 1, 0), 20), LONGEST_WAIT)


def build_mail(row: Mapping[str, Any], to: str, smtp: SmtpSettings) -> EmailMessage:
    """The e-mail for one notification row. Every header value passes ``header_text``: nothing a person
    typed (the actor's name, the message) can end a header and start another."""
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = to
    msg["Subject"] = header_text(
        f"vigil: {row['actor']} was stopped by your do-not-refer entry {row['entry_id']}"
        f" (case {row['case_id']})"
    )
    msg["Date"] = format_datetime(row["last_at"])
    msg["Message-ID"] = f"<vigil.notification.{row['id']}.{row['attempts']}@{smtp.domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(
        f"{body_text(row['message'])}\n\n"
        f"Blocked attempts on this case so far: {row['attempts']}, the last at"
        f" {row['last_at']:%Y-%m-%d %H:%M} UTC.\n"
        "Review or lift the entry in vigil (Privacy, do-not-refer) or with `vigil dnr list --mine`.\n\n"
        f"Automatic message for notification {row['id']}; the reason of your entry is never sent.\n"
    )
    return msg


def deliver_email(
    store: Store,
    smtp: SmtpSettings,
    settings: PrivacySettings,
    actor: str,
    now: datetime | None = None,
    limit: int = 200,
) -> MailRun:
    """Send the notifications that are due, one connection per run. A server that cannot be reached
    leaves every one pending, with the reason recorded (``MailRun.error``)."""
    if not settings.notify_email:
        raise ConfigError("no e-mail addresses: set [privacy.notify_email] user name = address")
    now = now or utcnow()
    run = MailRun()
    rows = _claim(store, settings, now, limit, run)
    if not rows:
        return run
    try:
        with SmtpSession(smtp) as session:
            for row in rows:
                to = settings.notify_email[row["recipient"]]
                msg = build_mail(row, to, smtp)
                refused = session.send(msg)
                if refused is None:
                    _delivered(store, actor, row, to, str(msg["Message-ID"]), now, run)
                else:
                    _failed(store, settings, actor, [row], refused, now, run)
    except MailFailed as exc:
        run.error = str(exc)
        done = set(run.delivered) | {int(f["id"]) for f in run.failed}
        left = [r for r in rows if r["id"] not in done]
        _failed(store, settings, actor, left, run.error, now, run)
    return run


def _claim(
    store: Store, settings: PrivacySettings, now: datetime, limit: int, run: MailRun
) -> list[dict[str, Any]]:
    due = (
        n.c.mail_delivered_at.is_(None),
        or_(n.c.mail_next_at.is_(None), n.c.mail_next_at <= now),
        or_(n.c.mail_claimed_until.is_(None), n.c.mail_claimed_until < now),
    )
    owners = sorted(settings.notify_email)
    claimed: list[dict[str, Any]] = []
    with store.write() as conn:
        run.no_address = sorted(
            conn.execute(
                select(n.c.recipient)
                .where(n.c.mail_delivered_at.is_(None), n.c.recipient.not_in(owners))
                .distinct()
            ).scalars()
        )
        rows = conn.execute(
            select(n).where(*due, n.c.recipient.in_(owners)).order_by(n.c.id).limit(limit)
        ).mappings()
        for row in list(rows):
            got = conn.execute(
                update(n).where(n.c.id == row["id"], *due).values(mail_claimed_until=now + CLAIM)
            ).rowcount
            if got == 1:
                claimed.append(dict(row))
    return claimed


def _delivered(
    store: Store, actor: str, row: dict[str, Any], to: str, message_id: str, now: datetime, run: MailRun
) -> None:
    with store.write() as conn:
        marked = conn.execute(
            update(n)
            .where(n.c.id == row["id"], n.c.last_at == row["last_at"])
            .values(
                mail_delivered_at=now,
                mail_tries=0,
                mail_error=None,
                mail_next_at=None,
                mail_claimed_until=None,
            )
        ).rowcount
        if not marked:  # raised again while it was being sent: the next run sends the new count
            conn.execute(update(n).where(n.c.id == row["id"]).values(mail_claimed_until=None))
        append_in(
            conn,
            actor,
            "notify.email",
            "notification",
            row["id"],
            {
                "recipient": row["recipient"],
                "to": to,
                "case_id": row["case_id"],
                "entry_id": row["entry_id"],
                "attempts": row["attempts"],
                "message_id": message_id,
            },
        )
    run.delivered.append(int(row["id"]))


def _failed(
    store: Store,
    settings: PrivacySettings,
    actor: str,
    rows: list[dict[str, Any]],
    reason: str,
    now: datetime,
    run: MailRun,
) -> None:
    with store.write() as conn:
        for row in rows:
            tries = int(row["mail_tries"] or 0) + 1
            next_at = now + retry_wait(settings, tries)
            conn.execute(
                update(n)
                .where(n.c.id == row["id"])
                .values(mail_tries=tries, mail_error=reason, mail_next_at=next_at, mail_claimed_until=None)
            )
            append_in(
                conn,
                actor,
                "notify.email_failed",
                "notification",
                row["id"],
                {
                    "recipient": row["recipient"],
                    "error": reason,
                    "tries": tries,
                    "next_at": next_at.isoformat(),
                },
            )
            run.failed.append({"id": row["id"], "error": reason, "next_at": next_at.isoformat()})
