"""Deliver a document by e-mail (``vigil.net.smtp``: STARTTLS required unless config says otherwise), the
document as JSON and PDF attachments, a plain-text body from the strings file."""

from __future__ import annotations

import json
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from vigil.config import Config
from vigil.errors import ConfigError, UsageError
from vigil.net.smtp import MailFailed, SmtpSession, SmtpSettings, checked_address
from vigil.referral.delivery import clear_to_send, record_delivery
from vigil.referral.destinations import DestinationOverride, clear_destination
from vigil.referral.pdf import render_pdf
from vigil.referral.strings import load_strings
from vigil.store import Store


def _reference(body: dict[str, Any]) -> str:
    return str(body.get("reference") or body["section_a"]["reference"])


def build_message(config: Config, document: dict[str, Any], to: str, sender: str) -> EmailMessage:
    body = document["body"]
    strings = load_strings(document["lang"], config)
    title = strings[document["kind"]]["title"]
    msg = EmailMessage()
    msg["Subject"] = f"{title}: {_reference(body)}"
    msg["From"] = sender
    msg["To"] = to
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    urls = "\n".join(document["urls"])
    msg.set_content(f"{title}\n{_reference(body)}\n\n{urls}\n\nThe document is attached as PDF and JSON.\n")
    msg.add_attachment(
        render_pdf(body, config), maintype="application", subtype="pdf", filename=f"{_reference(body)}.pdf"
    )
    msg.add_attachment(
        json.dumps(body, indent=1, ensure_ascii=False).encode(),
        maintype="application",
        subtype="json",
        filename=f"{_reference(body)}.json",
    )
    return msg


def send_email(
    store: Store,
    config: Config,
    document: dict[str, Any],
    to: str,
    actor: str,
    *,
    role: str,
    override: DestinationOverride | None = None,
) -> int:
    """Send ``document`` to ``to`` once the review allows it and ``to`` is the provider's in the registry
    (or ``override`` allows another address); else raise, nothing sent. 0 if delivered."""
    to = to.strip()
    if not to or "@" not in to:
        raise UsageError(f"no e-mail address to send document {document['id']} to (got {to!r})")
    try:
        checked_address(to, "recipient")
    except ConfigError:
        raise UsageError(f"not one plain e-mail address: {to[:80]!r}") from None
    smtp = SmtpSettings.from_config(config)
    clear_to_send(store, document, actor, role)
    overridden = clear_destination(store, config, document, "email", to, actor, override)
    msg = build_message(config, document, to, smtp.sender)
    ok, details = True, {"message_id": msg["Message-ID"], **overridden}
    try:
        with SmtpSession(smtp) as session:
            refused = session.send(msg)
        if refused:
            ok, details["refused"] = False, refused
    except MailFailed as exc:
        ok, details["error"] = False, str(exc)
    record_delivery(store, document, "email", to, ok, 1, actor, details, role=role)
    return 0 if ok else 1
