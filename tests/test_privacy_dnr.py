"""The de-confliction gate: a case on the do-not-refer list cannot be proposed for referral; the analyst
learns whom to contact and not why; the owner is notified; the audit log shows the block."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.privacy_helpers import CHANNEL, HANDLES, cli, make_item, open_case
from vigil.audit import log as audit
from vigil.config import Config
from vigil.core.model import Media, utcnow
from vigil.errors import UsageError
from vigil.net.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from vigil.privacy.access import PermissionDenied
from vigil.privacy.deconfliction import (
    DeconflictionBlocked,
    DeconflictionGate,
    add_entry,
    check_case,
    deconfliction_hook,
    lift_entry,
    list_entries,
    pending_notifications,
)
from vigil.privacy.notify import deliver_webhook
from vigil.store import Store

SECRET = "operation placeholder-17 under way"


def _soon() -> object:
    return utcnow() + timedelta(days=30)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("url", "HTTP://www.Example.net/posts/7/?utm_source=x#frag"),
        ("domain", "example.net"),
        ("account", f"telegram:{HANDLES[1]}"),
        ("channel", f"telegram:{CHANNEL}"),
        ("sha256", "C" * 64),
    ],
)
def test_hit_blocks_proposal_names_contact_not_reason(store: Store, kind: str, value: str) -> None:
    pic = Media("c" * 64, "image/png", 3, kind="image")
    case_id = open_case(store, make_item(7, url="https://news.example.net/posts/7", media=[pic]))
    if kind == "url":
        case_id = open_case(store, make_item(8, url="https://example.net/posts/7"))
    entry = add_entry(store, "olga", kind, value, SECRET, _soon())  # type: ignore[arg-type]
    assert [b.entry_id for b in check_case(store, case_id)] == [entry.id]
    with pytest.raises(DeconflictionBlocked) as caught:
        deconfliction_hook(store, case_id, "confirmed", "proposed", "alex")
    assert caught.value.contacts == ["olga"]
    assert "olga" in str(caught.value) and SECRET not in str(caught.value)
    (note,) = pending_notifications(store, "olga")
    assert note["case_id"] == case_id and note["entry_id"] == entry.id and SECRET not in note["message"]
    (block,) = [e for e in audit.entries(store) if e.action == "dnr.block"]
    assert block.actor == "alex" and block.target_id == str(case_id)
    assert block.details["entries"] == [entry.id] and SECRET not in str(block.details)
    # A retry counts up on the same notification rather than flooding the owner.
    with pytest.raises(DeconflictionBlocked):
        deconfliction_hook(store, case_id, "confirmed", "proposed", "alex")
    (again,) = pending_notifications(store, "olga")
    assert again["attempts"] == 2


def test_no_hit_and_ungated_states_pass(store: Store) -> None:
    case_id = open_case(store, make_item(3, url="https://other.example.com/a"))
    add_entry(store, "olga", "domain", "example.net", SECRET, _soon())  # type: ignore[arg-type]
    add_entry(store, "olga", "account", "telegram:someone_else", SECRET, _soon())  # type: ignore[arg-type]
    deconfliction_hook(store, case_id, "confirmed", "proposed", "alex")  # nothing raised
    blocked = open_case(store, make_item(4, url="https://example.net/x"))
    deconfliction_hook(store, blocked, "new", "triage", "alex")  # triage is not gated
    gate = DeconflictionGate()
    for state in ("proposed", "approved", "sent"):
        with pytest.raises(DeconflictionBlocked):
            gate(store, blocked, "decision", state, "alex")


def test_expired_and_lifted_entries_do_not_block(store: Store) -> None:
    case_id = open_case(store, make_item(5, url="https://example.net/y"))
    now = utcnow()
    entry = add_entry(store, "olga", "domain", "example.net", SECRET, now + timedelta(days=1), now=now)
    assert check_case(store, case_id)
    assert check_case(store, case_id, now=now + timedelta(days=2)) == []
    with pytest.raises(PermissionDenied):
        lift_entry(store, "alex", ["analyst"], entry.id)
    lift_entry(store, "root", ["admin"], entry.id, "case closed")
    assert check_case(store, case_id) == []
    with pytest.raises(UsageError):
        lift_entry(store, "olga", [], entry.id)
    actions = [e.action for e in audit.entries(store)]
    assert "dnr.lift" in actions and "dnr.lift_refused" in actions


def test_list_shows_reason_only_to_owner_and_admin(store: Store) -> None:
    add_entry(store, "olga", "url", "https://example.net/z", SECRET, _soon())  # type: ignore[arg-type]
    assert [e.reason for e in list_entries(store, "alex")] == [None]
    assert [e.reason for e in list_entries(store, "olga")] == [SECRET]
    assert [e.reason for e in list_entries(store, "root", ["admin"])] == [SECRET]


def test_bad_entries_are_refused(store: Store) -> None:
    soon = _soon()
    for kind, value, reason, when in (
        ("url", "ftp://example.net/a", SECRET, soon),
        ("domain", "not a domain", SECRET, soon),
        ("sha256", "xyz", SECRET, soon),
        ("account", "no-platform", SECRET, soon),
        ("colour", "red", SECRET, soon),
        ("url", "https://example.net/a", "  ", soon),
        ("url", "https://example.net/a", SECRET, utcnow() - timedelta(days=1)),
        ("url", "https://example.net/a", SECRET, utcnow() + timedelta(days=5000)),
    ):
        with pytest.raises(UsageError):
            add_entry(store, "olga", kind, value, reason, when)  # type: ignore[arg-type]
    assert list_entries(store, "olga", include_inactive=True) == []


@contextmanager
def hook_server(statuses: list[int]) -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """(URL, what it received) of a webhook that answers ``statuses`` in turn, then 200."""
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(({k: v for k, v in self.headers.items()}, body))
            self.send_response(statuses.pop(0) if statuses else 200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_owner_notifications_go_to_a_webhook(store: Store, config: Config) -> None:
    pauses: list[float] = []
    with hook_server([500, 503, 200]) as (url, received):
        case_id = open_case(store, make_item(6, url="https://example.net/w"))
        add_entry(store, "olga", "domain", "example.net", SECRET, _soon())  # type: ignore[arg-type]
        with pytest.raises(DeconflictionBlocked):
            deconfliction_hook(store, case_id, "decision", "proposed", "alex")
        first = deliver_webhook(store, config, url, retries=1, sleep=pauses.append)
        assert first.delivered == 0 and first.failed[0]["error"] == "HTTP 503" and pauses == [0.5]
        second = deliver_webhook(store, config, url, sleep=pauses.append)
        assert second.delivered == 1 and deliver_webhook(store, config, url).delivered == 0
        notes = [json.loads(body) for _headers, body in received]
        assert notes[-1]["recipient"] == "olga" and notes[-1]["case_id"] == case_id
        assert all(SECRET not in body.decode() for _headers, body in received)
        assert all(TIMESTAMP_HEADER in headers and SIGNATURE_HEADER not in headers for headers, _ in received)
        # Blocked again: the owner hears of it again, with the count of attempts.
        with pytest.raises(DeconflictionBlocked):
            deconfliction_hook(store, case_id, "decision", "proposed", "alex")
        unreachable = deliver_webhook(store, config, "http://127.0.0.1:9/none", 2, sleep=pauses.append)
        assert unreachable.delivered == 0 and len(unreachable.failed) == 1
        assert "ConnectError" in str(unreachable.failed[0]["error"])
        assert deliver_webhook(store, config, url).delivered == 1
        assert json.loads(received[-1][1])["attempts"] == 2


def test_webhook_notifications_signed_and_a_failing_receiver_ends_the_run(
    store: Store, config: Config
) -> None:
    key = "placeholder-notify-secret-42"
    config.extra["privacy"] = {"notify_webhook_secret": key}
    for n in (1, 2):
        case_id = open_case(store, make_item(20 + n, url=f"https://example{n}.net/w"))
        add_entry(store, "olga", "domain", f"example{n}.net", SECRET, _soon())  # type: ignore[arg-type]
        with pytest.raises(DeconflictionBlocked):
            deconfliction_hook(store, case_id, "decision", "proposed", "alex")
    pauses: list[float] = []
    with hook_server([503, 503, 503]) as (url, received):
        down = deliver_webhook(store, config, url, retries=2, backoff=0.25, sleep=pauses.append)
        # the first notification was tried three times, the second not at all: both stay pending
        assert down.delivered == 0 and len(received) == 3 and pauses == [0.25, 0.5]
        assert [f["error"] for f in down.failed] == ["HTTP 503", "HTTP 503"]
        up = deliver_webhook(store, config, url, sleep=pauses.append)
        assert up.delivered == 2 and not up.failed
    for headers, body in received:
        assert verify(key.encode(), headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
        assert not verify(b"another-secret-value", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])


def test_cli_delivers_to_the_configured_webhook(store: Store, home: Path, database_url: str) -> None:
    case_id = open_case(store, make_item(30, url="https://example.net/c"))
    add_entry(store, "olga", "domain", "example.net", SECRET, _soon())  # type: ignore[arg-type]
    with pytest.raises(DeconflictionBlocked):
        deconfliction_hook(store, case_id, "decision", "proposed", "alex")
    key = "placeholder-notify-secret-77"
    with hook_server([]) as (url, received):
        (home / "config.toml").write_text(
            f'[privacy]\nnotify_webhook = "{url}"\nnotify_webhook_secret = "{key}"\n', "utf-8"
        )
        sent = cli(["dnr", "notify"], home, database_url)
        assert sent.exit_code == 0, sent.output
        assert '"channel": "webhook"' in sent.output and '"delivered": 1' in sent.output
    ((headers, body),) = received
    assert json.loads(body)["case_id"] == case_id
    assert verify(key.encode(), headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert headers["User-Agent"].startswith("vigil/")
