"""Do-not-refer notifications by e-mail, against an SMTP server the test starts (aiosmtpd, STARTTLS): a
block reaches its owner once, with no reason and no clear identifier in it; a refusal stays pending with
its reason and goes out later; a server that is down loses nothing; two runs at once never send one
twice; nothing typed by a person can add a header."""

from __future__ import annotations

import email
import threading
import time
from datetime import timedelta
from email import policy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.local_servers import free_port, smtp_server
from tests.privacy_helpers import CLEAR, HANDLES, cli, make_item, open_case
from vigil.audit import log as audit
from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import utcnow
from vigil.errors import ConfigError, UsageError
from vigil.net.smtp import SmtpSettings, checked_address, header_text
from vigil.privacy.deconfliction import DeconflictionBlocked, add_entry, deconfliction_hook
from vigil.privacy.leakcheck import find_leaks
from vigil.privacy.notify_mail import LONGEST_WAIT, build_mail, deliver_email, retry_wait
from vigil.privacy.settings import PrivacySettings
from vigil.privacy.tables import notifications
from vigil.store import Store

SECRET = "operation placeholder-23 under way"
OLGA = "olga@unit.test"
SENDER = "vigil@unit.test"
PRIVACY = PrivacySettings(notify_email={"olga": OLGA})


def _smtp(port: int, cert: Path | None = None) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", sender=SENDER, port=port, cafile=str(cert) if cert else None)


def _blocked(store: Store, n: int = 7, owner: str = "olga", actor: str = "alex") -> tuple[int, int]:
    """(case id, entry id): a case on ``owner``'s list that ``actor`` tried to propose."""
    case_id = open_case(store, make_item(n, url=f"https://example.net/posts/{n}"))
    entry = add_entry(
        store, owner, "account", f"telegram:{HANDLES[n % 2]}", SECRET, utcnow() + timedelta(days=9)
    )
    with pytest.raises(DeconflictionBlocked):
        deconfliction_hook(store, case_id, "confirmed", "proposed", actor)
    return case_id, entry.id


def _row(store: Store, case_id: int) -> dict[str, Any]:
    with store.read() as conn:
        return dict(
            conn.execute(select(notifications).where(notifications.c.case_id == case_id)).mappings().one()
        )


def test_block_arrives_once_without_reason_or_identifier(store: Store, tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (server, port, cert):
        case_id, entry_id = _blocked(store)
        run = deliver_email(store, _smtp(port, cert), PRIVACY, "cron")
        assert run.error is None and run.failed == [] and len(run.delivered) == 1
        ((sender, rcpts, raw),) = server.messages
        assert sender == SENDER and rcpts == [OLGA]
        msg = email.message_from_bytes(raw, policy=policy.default)
        assert msg["To"] == OLGA and msg["From"] == SENDER
        assert (
            msg["Subject"]
            == f"vigil: alex was stopped by your do-not-refer entry {entry_id} (case {case_id})"
        )
        body = msg.get_content()
        assert _row(store, case_id)["message"] in body and "attempts on this case so far: 1" in body
        assert SECRET not in raw.decode("utf-8", "replace") and find_leaks({"mail": body}, CLEAR) == []
        (entry,) = [e for e in audit.entries(store) if e.action == "notify.email"]
        assert (entry.actor, entry.target_id, entry.details["to"]) == ("cron", str(run.delivered[0]), OLGA)
        assert _row(store, case_id)["mail_delivered_at"] is not None
        # Rerun: nothing again.
        again = deliver_email(store, _smtp(port, cert), PRIVACY, "cron")
        assert again.delivered == [] and len(server.messages) == 1
        # Blocked again: the owner hears of it again (new count, new Message-ID), once.
        with pytest.raises(DeconflictionBlocked):
            deconfliction_hook(store, case_id, "confirmed", "proposed", "alex")
        assert len(deliver_email(store, _smtp(port, cert), PRIVACY, "cron").delivered) == 1
        assert deliver_email(store, _smtp(port, cert), PRIVACY, "cron").delivered == []
        first, second = (email.message_from_bytes(m[2], policy=policy.default) for m in server.messages)
        assert "so far: 2" in second.get_content() and first["Message-ID"] != second["Message-ID"]


def test_owner_without_address_stays_in_vigil(store: Store, tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (server, port, cert):
        case_id, _entry = _blocked(store, owner="ivan")
        run = deliver_email(store, _smtp(port, cert), PRIVACY, "cron")
    assert run.no_address == ["ivan"] and run.delivered == [] and server.messages == []
    assert _row(store, case_id)["mail_delivered_at"] is None
    with pytest.raises(ConfigError, match="notify_email"):
        deliver_email(store, _smtp(port, cert), PrivacySettings(), "cron")


def test_refusal_is_kept_with_its_reason_and_retried_after_back_off(store: Store, tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (server, port, cert):
        case_id, _entry = _blocked(store)
        server.refuse = "550 mailbox unavailable"
        now = utcnow()
        run = deliver_email(store, _smtp(port, cert), PRIVACY, "cron", now=now)
        assert run.delivered == [] and "550 mailbox unavailable" in run.failed[0]["error"]
        row = _row(store, case_id)
        assert row["mail_delivered_at"] is None and "550" in row["mail_error"] and row["mail_tries"] == 1
        assert row["mail_next_at"] == now + timedelta(seconds=60)
        assert any(
            e.action == "notify.email_failed" and "550" in e.details["error"] for e in audit.entries(store)
        )
        server.refuse = None
        early = deliver_email(store, _smtp(port, cert), PRIVACY, "cron", now=now + timedelta(seconds=30))
        assert early.delivered == [] and early.failed == [] and server.messages == []
        later = deliver_email(store, _smtp(port, cert), PRIVACY, "cron", now=now + timedelta(seconds=61))
        assert len(later.delivered) == 1 and len(server.messages) == 1
        row = _row(store, case_id)
        assert row["mail_error"] is None and row["mail_tries"] == 0 and row["mail_delivered_at"] is not None


def test_back_off_doubles_up_to_six_hours() -> None:
    waits = [retry_wait(PrivacySettings(notify_retry_s=60), n) for n in (1, 2, 3, 30)]
    assert waits[:3] == [timedelta(seconds=60), timedelta(seconds=120), timedelta(seconds=240)]
    assert waits[3] == LONGEST_WAIT == timedelta(hours=6)


def test_server_down_loses_nothing_and_cli_says_so(
    store: Store, home: Path, database_url: str, tmp_path: Path
) -> None:
    case_id, _entry = _blocked(store)
    down = free_port()
    config = '[privacy]\nnotify_retry_s = 1\n[privacy.notify_email]\nolga = "{to}"\n'
    config += '[smtp]\nhost = "127.0.0.1"\nport = {port}\nfrom = "{sender}"\ncafile = "{cert}"\n'
    (home / "config.toml").write_text(config.format(to=OLGA, port=down, sender=SENDER, cert=""), "utf-8")
    failed = cli(["dnr", "notify", "--via", "email"], home, database_url)
    assert failed.exit_code == 1, failed.output
    assert f"127.0.0.1:{down} unreachable" in failed.output and "nothing is lost" in failed.output
    row = _row(store, case_id)
    assert row["mail_delivered_at"] is None and "unreachable" in row["mail_error"]
    with smtp_server(tmp_path) as (server, port, cert):
        (home / "config.toml").write_text(
            config.format(to=OLGA, port=port, sender=SENDER, cert=cert.as_posix()), "utf-8"
        )
        time.sleep(1.1)  # the back-off: 1 s after the first failure
        sent = cli(["dnr", "notify"], home, database_url)
        assert sent.exit_code == 0, sent.output
        assert '"delivered": 1' in sent.output and [m[1] for m in server.messages] == [[OLGA]]
    assert _row(store, case_id)["mail_delivered_at"] is not None


def test_two_runs_at_once_send_each_notification_once(
    store: Store, config: Config, database_url: str, tmp_path: Path
) -> None:
    cases = [_blocked(store, n)[0] for n in range(2, 8)]
    other = open_store(config, url=database_url)  # a second process's view of the same database
    try:
        with smtp_server(tmp_path) as (server, port, cert):
            runs: list[Any] = []
            threads = [
                threading.Thread(
                    target=lambda s=s: runs.append(deliver_email(s, _smtp(port, cert), PRIVACY, "x"))
                )
                for s in (store, other)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
    finally:
        other.close()
    with store.read() as conn:
        every = sorted(conn.execute(select(notifications.c.id)).scalars())
    assert len(every) >= len(cases) and len(runs) == 2
    assert sorted(i for run in runs for i in run.delivered) == every
    ids = [email.message_from_bytes(m[2], policy=policy.default)["Message-ID"] for m in server.messages]
    assert len(ids) == len(every) == len(set(ids))


def test_hostile_actor_name_adds_no_recipient_over_the_wire(store: Store, tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (server, port, cert):
        _blocked(store, actor="alex\r\nBcc: spy@evil.test\r\nSubject: other")
        assert len(deliver_email(store, _smtp(port, cert), PRIVACY, "cron").delivered) == 1
    ((_sender, rcpts, raw),) = server.messages
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert rcpts == [OLGA] and msg["Bcc"] is None and len(msg.get_all("Subject") or []) == 1
    assert str(msg["Subject"]).startswith("vigil: alex Bcc: spy@evil.test Subject: other was stopped")


HEADERS = {"From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted"}
MIME = {"Content-Type", "Content-Transfer-Encoding", "MIME-Version"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    actor=st.text(max_size=300)
    | st.sampled_from(["alex\r\nBcc: spy@evil.test", "a\nSubject: x", "\u2028To: b"]),
    message=st.text(max_size=2000) | st.just("line\r\nBcc: spy@evil.test\r\n\r\n.\r\nRCPT TO:<x@y>"),
)
def test_nothing_typed_can_add_a_header(actor: str, message: str) -> None:
    row = {"id": 5, "actor": actor, "message": message, "case_id": 3, "entry_id": 4, "attempts": 1}
    msg = build_mail({**row, "last_at": utcnow()}, OLGA, _smtp(25))
    parsed = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    names = set(parsed.keys())
    assert HEADERS <= names <= HEADERS | MIME
    assert all(len(parsed.get_all(name) or []) == 1 for name in HEADERS)
    assert parsed["To"] == OLGA and parsed["From"] == SENDER
    subject = str(parsed["Subject"])
    assert "\r" not in subject and "\n" not in subject
    assert " ".join(subject.split()) == header_text(
        f"vigil: {actor} was stopped by your do-not-refer entry 4 (case 3)"
    )
    assert parsed.get_content_type() == "text/plain" and not parsed.is_multipart()


@given(st.text(min_size=1, max_size=60).filter(lambda t: any(c in t for c in "\r\n\x85\u2028<>, ")))
def test_an_address_with_a_line_break_or_list_is_refused(hostile: str) -> None:
    with pytest.raises(ConfigError, match=r"notify_email\.olga"):
        checked_address(f"olga@unit{hostile}.test", "privacy.notify_email.olga")


def test_settings_come_from_config(config: Config) -> None:
    config.extra["privacy"] = {"notify_email": {"olga": OLGA}, "notify_retry_s": 5}
    config.extra["smtp"] = {"host": "mail.unit.test", "from": SENDER, "port": "2525"}
    privacy = PrivacySettings.from_config(config)
    assert privacy.notify_email == {"olga": OLGA} and privacy.notify_retry_s == 5
    smtp = SmtpSettings.from_config(config)
    assert (smtp.host, smtp.port, smtp.starttls, smtp.domain) == ("mail.unit.test", 2525, True, "unit.test")
    for bad in ("not a table", {"olga": "olga@unit.test\r\nBcc: spy@evil.test"}, {"olga": "no-at-sign"}):
        config.extra["privacy"] = {"notify_email": bad}
        with pytest.raises(ConfigError, match=r"privacy\.notify_email"):
            PrivacySettings.from_config(config)
    config.extra["smtp"] = {"host": "mail.unit.test"}
    with pytest.raises(ConfigError, match=r"\[smtp\] host and from"):
        SmtpSettings.from_config(config)


def test_cli_usage_errors(store: Store, home: Path, database_url: str) -> None:
    """In process the CLI's errors come back as exceptions (``vigil.cli.main`` turns them into exit codes
    2 and 1 with the message)."""
    nothing = cli(["dnr", "notify"], home, database_url)
    assert isinstance(nothing.exception, UsageError) and "nothing to deliver to" in str(nothing.exception)
    unknown = cli(["dnr", "notify", "--via", "fax"], home, database_url)
    assert isinstance(unknown.exception, UsageError) and "unknown channel fax" in str(unknown.exception)
    no_smtp = cli(["dnr", "notify", "--via", "email"], home, database_url)
    assert isinstance(no_smtp.exception, ConfigError) and "[smtp] host and from" in str(no_smtp.exception)
