"""A document goes only to a destination the registry lists for its provider, unless someone whose role may
override gives a reason: real sends to a local SMTP server and a local webhook, refusals audited, nothing
delivered when refused; the comparison of address and URL spellings checked with hypothesis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.evidence_helpers import run_cli
from tests.local_servers import Page, SmtpCollect, smtp_server, web_server
from tests.referral_web_helpers import PROVIDER_EMAIL, register_provider
from tests.test_referral_delivery import SECRET, approved_document
from tests.test_referral_documents import authority
from tests.workflow_helpers import add_accounts
from vigil.audit import log as audit
from vigil.boot import open_store
from vigil.config import Config
from vigil.referral.destinations import (
    DestinationOverride,
    DestinationRefused,
    email_key,
    is_listed,
    registry_destinations,
)
from vigil.referral.mail import send_email
from vigil.referral.registry import Platform
from vigil.referral.tables import referral_deliveries
from vigil.referral.webhook import send_webhook
from vigil.store import Store

ELSEWHERE = "desk@elsewhere.test"


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[SmtpCollect, int, Path]]:
    with smtp_server(tmp_path) as server:
        yield server


def _mail_config(config: Config, port: int, cert: Path) -> Config:
    cfg = register_provider(authority(config))
    cfg.extra["smtp"] = {"host": "127.0.0.1", "port": port, "from": "iru@authority.test", "cafile": str(cert)}
    return cfg


def _deliveries(store: Store) -> list[dict[str, object]]:
    with store.read() as conn:
        return [dict(r) for r in conn.execute(select(referral_deliveries)).mappings()]


def _audited(store: Store, action: str) -> list[dict[str, object]]:
    return [e.details for e in audit.entries(store, 1000) if e.action == action]


def test_registry_address_is_delivered(
    store: Store, config: Config, smtp: tuple[SmtpCollect, int, Path]
) -> None:
    handler, port, cert = smtp
    cfg = _mail_config(config, port, cert)
    _case_id, doc = approved_document(store, cfg)
    assert send_email(store, cfg, doc, "  legal@HOST.test ", "ana", role="analyst") == 0
    ((_sender, rcpts, _raw),) = handler.messages
    assert rcpts == ["legal@HOST.test"]
    assert _audited(store, "referral.destination_refused") == []


def test_other_address_is_refused_and_audited(
    store: Store, config: Config, smtp: tuple[SmtpCollect, int, Path]
) -> None:
    handler, port, cert = smtp
    cfg = _mail_config(config, port, cert)
    case_id, doc = approved_document(store, cfg)
    with pytest.raises(DestinationRefused, match="not a destination the registry lists"):
        send_email(store, cfg, doc, ELSEWHERE, "ana", role="analyst")
    # The local part is compared as written: another mailbox at the provider's domain is another address.
    with pytest.raises(DestinationRefused):
        send_email(store, cfg, doc, "Legal@host.test", "ana", role="analyst")
    assert handler.messages == [] and _deliveries(store) == []
    refused = _audited(store, "referral.destination_refused")
    assert sorted(str(r["destination"]) for r in refused) == ["Legal@host.test", ELSEWHERE]
    assert {(r["provider"], r["document_id"]) for r in refused} == {("placeholder-host", doc["id"])}
    assert store.get_case(case_id).state == "approved"  # type: ignore[union-attr]


def test_override_by_allowed_role_is_delivered_and_audited(
    store: Store, config: Config, smtp: tuple[SmtpCollect, int, Path]
) -> None:
    handler, port, cert = smtp
    cfg = _mail_config(config, port, cert)
    _case_id, doc = approved_document(store, cfg)
    reason = "provider asked for its new desk, placeholder ticket 7"
    override = DestinationOverride(reason, "lena", "legal")
    assert send_email(store, cfg, doc, ELSEWHERE, "ana", role="analyst", override=override) == 0
    ((_sender, rcpts, _raw),) = handler.messages
    assert rcpts == [ELSEWHERE]
    (granted,) = _audited(store, "referral.destination_override")
    assert granted["destination"] == ELSEWHERE
    assert granted["override"] == {"by": "lena", "role": "legal", "reason": reason}
    (row,) = _deliveries(store)
    assert row["ok"] is True and row["details"]["destination_override"]["reason"] == reason  # type: ignore[index]


@pytest.mark.parametrize(
    ("override", "says"),
    [
        (DestinationOverride("placeholder reason", "ana", "analyst"), "may not override"),
        (DestinationOverride("placeholder reason", "vera", "verifier"), "may not override"),
        (DestinationOverride("   ", "lena", "legal"), "needs a reason"),
    ],
)
def test_override_without_role_or_reason_is_refused(
    store: Store,
    config: Config,
    smtp: tuple[SmtpCollect, int, Path],
    override: DestinationOverride,
    says: str,
) -> None:
    handler, port, cert = smtp
    cfg = _mail_config(config, port, cert)
    _case_id, doc = approved_document(store, cfg)
    with pytest.raises(DestinationRefused, match=says):
        send_email(store, cfg, doc, ELSEWHERE, "ana", role="analyst", override=override)
    assert handler.messages == [] and _deliveries(store) == []
    (refused,) = _audited(store, "referral.destination_refused")
    assert refused["override"]["role"] == override.role  # type: ignore[index]
    assert _audited(store, "referral.destination_override") == []


def test_webhook_registry_url_only(store: Store, config: Config) -> None:
    cfg = authority(config)
    cfg.extra["webhook"] = {"secret": SECRET, "retries": 0}
    _case_id, doc = approved_document(store, cfg, kind="dsa_notice")
    with web_server() as web:
        web.pages["/hook"] = Page(200, b"ok")
        web.pages["/other"] = Page(200, b"ok")
        register_provider(cfg, web.url("/hook"))
        with pytest.raises(DestinationRefused):
            send_webhook(store, cfg, doc, web.url("/other"), "ana", role="analyst")
        assert web.requests == []
        assert send_webhook(store, cfg, doc, f" {web.url('/hook')} ", "ana", role="analyst") == 0
        assert [r[0] for r in web.requests] == ["/hook"]
    (refused,) = _audited(store, "referral.destination_refused")
    assert refused["channel"] == "webhook" and str(refused["destination"]).endswith("/other")


def test_cli_refuses_other_address_with_exit_2(home: Path, smtp: tuple[SmtpCollect, int, Path]) -> None:
    handler, port, cert = smtp
    (home / "config.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nfrom = "iru@authority.test"\ncafile = "{cert}"\n',
        "utf-8",
    )
    cfg = register_provider(authority(Config.load(home)))
    store = open_store(cfg)
    try:
        _case_id, doc = approved_document(store, cfg)
        add_accounts(store, ana="analyst", lena="legal")
    finally:
        store.close()
    send = ["referral", "send", str(doc["id"]), "--email", ELSEWHERE, "--actor", "ana", "--role", "analyst"]
    refused = run_cli(send, home)
    assert refused.returncode == 2 and "not a destination the registry lists" in refused.stderr
    denied = run_cli([*send, "--override-reason", "placeholder reason"], home)  # an analyst may not
    assert denied.returncode == 2 and "may not override" in denied.stderr
    assert handler.messages == []
    allowed = [
        *send,
        "--override-reason",
        "placeholder reason",
        "--override-by",
        "lena",
        "--override-role",
        "legal",
    ]
    done = run_cli(allowed, home)
    assert done.returncode == 0, done.stderr
    ((_sender, rcpts, _raw),) = handler.messages
    assert rcpts == [ELSEWHERE]


PLATFORM = Platform(
    key="p",
    name="P",
    domains=["host.test"],
    legal_email=PROVIDER_EMAIL,
    contact_point={"email": "cp@host.test"},
    webhook_url="https://hooks.host.test/in",
)
LISTED = registry_destinations(PLATFORM)
spaces = st.text(" \t", max_size=3)


@settings(max_examples=200, deadline=None)
@given(domain_case=st.lists(st.booleans(), min_size=9, max_size=9), left=spaces, right=spaces)
def test_spellings_of_the_registry_address_are_accepted(
    domain_case: list[bool], left: str, right: str
) -> None:
    domain = "".join(c.upper() if up else c for c, up in zip("host.test", domain_case, strict=True))
    assert is_listed("email", f"{left}legal@{domain}{right}", LISTED)
    assert email_key(f"{left}cp@{domain}{right}") in LISTED["email"]


@settings(max_examples=300, deadline=None)
@given(address=st.text(max_size=60) | st.emails().map(str))
def test_other_addresses_are_refused(address: str) -> None:
    local, _, domain = address.strip().rpartition("@")
    if local in ("legal", "cp") and domain.lower() == "host.test":
        return  # a spelling of a listed address (covered above)
    assert not is_listed("email", address, LISTED)


@settings(max_examples=200, deadline=None)
@given(
    url=st.text(max_size=60)
    | st.from_regex(r"https?://[a-z.]{1,20}(:[0-9]{1,5})?/[a-z/]{0,10}", fullmatch=True)
)
def test_other_urls_are_refused(url: str) -> None:
    if "hooks.host.test" in url.lower():
        return  # the listed host (its spellings are checked below)
    assert not is_listed("webhook", url, LISTED)


def test_url_spellings() -> None:
    for same in (
        "https://HOOKS.host.test/in",
        " https://hooks.host.test:443/in/ ",
        "https://hooks.host.test/in?a=1",
    ):
        assert is_listed("webhook", same, LISTED), same
    for other in (
        "http://hooks.host.test/in",
        "https://hooks.host.test:8443/in",
        "https://evil.test/in",
        "ftp://x",
    ):
        assert not is_listed("webhook", other, LISTED), other
