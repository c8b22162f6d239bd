"""Re-checks against a local web server: removed (404/410), still up, geo-blocked (451), reappeared; time to
removal; removed media to the bank; per-host rate limits; the whole path through the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.evidence_helpers import approve, decided_case, local_config, run_cli, write_local_config
from tests.local_servers import DnsServer, Page, WebServer, dns_server, web_server
from tests.test_evidence_capture import PAGE, png_bytes
from tests.test_referral_documents import RECIPIENT, authority
from vigil.audit.history import history
from vigil.boot import open_store
from vigil.config import Config
from vigil.evidence.capture import capture_url
from vigil.evidence.tables import evidence_captures
from vigil.net.limits import HostLimiter
from vigil.referral.delivery import clear_to_send, record_delivery
from vigil.referral.documents import create_document
from vigil.referral.hashbank import TableSink
from vigil.referral.recheck import run_rechecks
from vigil.referral.replies import record_reply
from vigil.referral.tables import recheck_results, watched_urls
from vigil.referral.transparency import build_report, render_html
from vigil.store import Store

OTHER_PAGE = (
    b"<html><body><article><p>An unrelated placeholder notice with other words.</p></article></body></html>"
)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def site() -> Iterator[tuple[WebServer, DnsServer]]:
    with web_server() as web, dns_server() as dns:
        dns.zone["pages.test"] = {"A": ["127.0.0.1"]}
        web.pages["/post/1"] = Page(200, PAGE)
        web.pages["/img/one.png"] = Page(200, png_bytes((200, 40, 40)), {"Content-Type": "image/png"})
        yield web, dns


def _send(store: Store, doc: dict[str, Any], at: datetime) -> None:
    """What a delivery channel does around the transport: clear the send, then record it."""
    clear_to_send(store, doc, "ana", "analyst")
    record_delivery(store, doc, "email", "cp@host.test", True, 1, "ana", at=at, role="analyst")


def _referred(store: Store, config: Config, url: str, at: datetime) -> int:
    case_id = decided_case(store, url)
    capture_url(store, config, url, case_id=case_id, actor="ana")
    doc = create_document(
        store, config, case_id, "removal_order", RECIPIENT, "ana", role="analyst", grounds=["a"], reasons="r"
    )
    approve(store, case_id)
    _send(store, doc, at)
    return case_id


def test_lifecycle_removed_reappeared_geo(
    store: Store, config: Config, site: tuple[WebServer, DnsServer]
) -> None:
    web, dns = site
    cfg = authority(local_config(config, dns.address, recheck_host_interval=0))
    url = web.url("/post/1", host="pages.test")
    sent = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    case_id = _referred(store, cfg, url, sent)
    clock = Clock(sent + timedelta(minutes=10))
    sink = TableSink(store)
    # still up: identical page
    assert run_rechecks(store, cfg, now=clock, sink=sink).outcomes == {"up": 1}
    # not due yet ten minutes later; --all checks anyway
    clock.now += timedelta(minutes=10)
    assert run_rechecks(store, cfg, now=clock, sink=sink).checked == 0
    # page still there but changed around the item: still recognised by its text
    web.pages["/post/1"] = Page(
        200, PAGE.replace(b"<h1>A neutral heading</h1>", b"<h1>Changed</h1><p>banner</p>")
    )
    assert run_rechecks(store, cfg, due_only=False, now=clock, sink=sink).outcomes == {"up": 1}
    # geo-blocked
    web.pages["/post/1"] = Page(451, b"unavailable for legal reasons")
    assert run_rechecks(store, cfg, due_only=False, now=clock, sink=sink).outcomes == {"geo_blocked": 1}
    assert store.get_case(case_id).state == "sent"
    # removed: 410 at sent + 45 minutes
    web.pages["/post/1"] = Page(410, b"gone")
    clock.now = sent + timedelta(minutes=45)
    summary = run_rechecks(store, cfg, due_only=False, now=clock, sink=sink)
    assert summary.outcomes == {"removed": 1} and summary.removed[0]["time_to_removal_s"] == 45 * 60
    assert store.get_case(case_id).state == "removed"
    with store.read() as conn:
        watch = conn.execute(select(watched_urls)).mappings().one()
        retain = conn.execute(select(evidence_captures.c.retain_until)).scalar_one()
    assert watch["removed_at"] == clock.now and watch["time_to_removal_s"] == 2700.0
    assert retain == clock.now + timedelta(days=183)
    # its media went to the bank
    assert sink.contains(__import__("hashlib").sha256(png_bytes((200, 40, 40))).hexdigest())
    # a page that no longer shows the item counts as removed too; the original coming back is "reappeared"
    web.pages["/post/1"] = Page(200, PAGE)
    clock.now += timedelta(days=2)
    assert run_rechecks(store, cfg, now=clock, sink=sink).outcomes == {"reappeared": 1}
    assert store.get_case(case_id).state == "recheck"
    assert [e["reason"] for e in history(store, case_id)][-2:] == [
        "re-check: content removed",
        "re-check: content reappeared",
    ]
    with store.read() as conn:
        outcomes = [r.outcome for r in conn.execute(select(recheck_results).order_by(recheck_results.c.id))]
    assert outcomes == ["up", "up", "geo_blocked", "removed", "reappeared"]


def test_soft_removal_and_unresolvable_host(
    store: Store, config: Config, site: tuple[WebServer, DnsServer]
) -> None:
    web, dns = site
    cfg = authority(local_config(config, dns.address, recheck_host_interval=0))
    url = web.url("/post/1", host="pages.test")
    sent = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    _referred(store, cfg, url, sent)
    web.pages["/post/1"] = Page(200, OTHER_PAGE)  # 200, but the item is gone from the page
    clock = Clock(sent + timedelta(hours=3))
    assert run_rechecks(store, cfg, now=clock).outcomes == {"removed": 1}
    dns.zone.pop("pages.test")
    url2 = web.url("/post/1", host="other.test")
    dns.zone["other.test"] = {"A": ["127.0.0.1"]}
    web.pages["/post/1"] = Page(200, PAGE)
    _referred(store, cfg, url2, sent)
    dns.zone.pop("other.test")  # the domain disappears: removed
    clock.now += timedelta(days=3)
    assert run_rechecks(store, cfg, now=clock).outcomes.get("removed", 0) >= 1
    with store.read() as conn:
        rows = {r["url"]: r for r in conn.execute(select(watched_urls)).mappings()}
    assert rows[url2]["status"] == "removed"


def test_host_limiter_spaces_requests() -> None:
    t = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        t[0] += s

    limiter = HostLimiter(1, 2.0, clock=lambda: t[0], sleep=sleep)
    for host in ["a", "a", "b", "a"]:
        limiter.wait(host)
        t[0] += 0.5
    # a at 0; a again at 0.5 waits 1.5 (to 2.0); b at 2.5 waits not; a at 3.0 waits 1.0 (2 s after 2.0)
    assert slept == [1.5, 1.0]


def test_transparency_figures(store: Store, config: Config) -> None:
    cfg = authority(config)
    base = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    rows = []
    for n, (provider, ttr_min) in enumerate(
        [("host-a", 30), ("host-a", 90), ("host-a", None), ("host-b", 20)]
    ):
        case_id = decided_case(store, f"https://{provider}.test/{n}")
        doc = create_document(
            store,
            cfg,
            case_id,
            "removal_order",
            {**RECIPIENT, "key": provider},
            "ana",
            role="analyst",
            grounds=["a"],
            reasons="r",
            now=base,
        )
        approve(store, case_id)
        _send(store, doc, base)
        rows.append((doc, ttr_min))
    in_review = decided_case(store, "https://host-a.test/in-review")
    create_document(
        store,
        cfg,
        in_review,
        "removal_order",
        RECIPIENT,
        "ana",
        role="analyst",
        grounds=["a"],
        reasons="r",
        now=base,
    )
    with store.write() as conn:
        for doc, ttr in rows:
            if ttr is not None:
                conn.execute(
                    watched_urls.update()
                    .where(watched_urls.c.document_id == doc["id"])
                    .values(
                        status="removed",
                        removed_at=base + timedelta(minutes=ttr),
                        time_to_removal_s=ttr * 60.0,
                    )
                )
    unclear = rows[2][0]
    annex_iii = {
        "reference": unclear["reference"],
        "received_at": base.isoformat(),
        "provider": "Placeholder Hosting B.V.",
        "member_state": "NL",
        "reasons": ["manifest_error"],
        "explanation": "wrong URL",
        "clarification_requested": "the complete URL",
    }
    record_reply(store, unclear["id"], "annex_iii", "ana", annex_iii, at=base, role="analyst")
    complaint = {"by": "content provider"}
    for doc, when in ((rows[0][0], timedelta(hours=2)), (rows[1][0], timedelta(days=90))):
        record_reply(store, doc["id"], "complaint", "ana", complaint, at=base + when, role="analyst")
    report = build_report(store, base - timedelta(days=1), base + timedelta(days=30))
    assert report["removal_orders"] == {
        "issued": 4,
        "executed": 3,
        "not_executed": 1,
        "not_executed_reasons": {"manifest_error": 1},
        "in_review": 1,  # drafted, not approved and sent: not an issued order
    }
    assert report["complaints"] == 1 and report["reinstatements"] == 0
    a = report["providers"]["host-a"]
    assert a["urls"] == 3 and a["removed"] == 2 and a["removal_rate"] == round(2 / 3, 4)
    assert a["median_hours_to_removal"] == 1.0 and report["providers"]["host-b"][
        "median_hours_to_removal"
    ] == round(20 / 60, 3)
    empty = build_report(store, base + timedelta(days=60), base + timedelta(days=61))
    assert empty["removal_orders"]["issued"] == 0 and empty["removal_rate"] is None


def test_html_report_embeds_charts() -> None:
    """Rendering is checked once, on figures made by hand (the store-backed figures are checked above)."""
    provider = {
        "documents": 2,
        "urls": 2,
        "removed": 1,
        "still_up": 1,
        "geo_blocked": 0,
        "reappeared": 0,
        "removal_rate": 0.5,
        "median_hours_to_removal": 0.5,
        "p95_hours_to_removal": 0.5,
        "hours_to_removal": [0.5],
    }
    report = {
        "period": {"from": "2026-03-01", "to": "2026-04-01"},
        "removal_orders": {
            "issued": 2,
            "executed": 1,
            "not_executed": 1,
            "not_executed_reasons": {"<b>x</b>": 1},
        },
        "referrals": {"voluntary_referral": 0, "dsa_notice": 0},
        "complaints": 0,
        "reinstatements": 0,
        "urls": 2,
        "removed": 1,
        "removal_rate": 0.5,
        "median_hours_to_removal": 0.5,
        "p95_hours_to_removal": 0.5,
        "providers": {"host-a": provider, "host-<i>b</i>": {**provider, "hours_to_removal": []}},
    }
    page = render_html(report)
    assert page.count("data:image/png;base64,") == 2 and "host-a" in page
    assert "<i>b</i>" not in page and "&lt;i&gt;b&lt;/i&gt;" in page and "<b>x</b>" not in page


def test_acceptance_through_the_command_line(tmp_path: Path, home: Path, config: Config) -> None:
    """Capture, order, send; the page goes 404 and `vigil recheck --due` marks the case removed."""
    store = open_store(config)
    with web_server() as web, dns_server() as dns:
        dns.zone["pages.test"] = {"A": ["127.0.0.1"]}
        web.pages["/post/9"] = Page(200, PAGE)
        web.pages["/hook"] = Page(200, b"ok")
        url = web.url("/post/9", host="pages.test")
        write_local_config(
            home,
            dns.address,
            recheck_host_interval=0,
            authority={
                "name": "Placeholder Referral Unit",
                "member_state": "NL",
                "type": "law_enforcement",
                "email": "iru@authority.test",
                "redress": {"body": "Placeholder District Court", "deadline": "placeholder weeks"},
            },
            webhook={"secret": "placeholder-webhook-secret-0123"},
        )
        (home / "platforms.yaml").write_text(
            "platforms:\n  - key: placeholder-pages\n    name: Placeholder Pages\n    domains: [pages.test]\n"
            "    member_state: NL\n    contact_point: {name: Desk, email: tco@pages.test}\n"
            f"    webhook_url: {web.url('/hook')}\n",
            "utf-8",
        )
        case_id = decided_case(store, url)
        assert run_cli(["evidence", "capture", url, "--case", str(case_id)], home).returncode == 0
        order = ["referral", "order", str(case_id), "--ground", "a", "--reasons", "Placeholder."]
        refused = run_cli(order, home)  # the command line needs to know who acts, in which role
        assert refused.returncode == 2 and "--role" in refused.stderr
        got = run_cli([*order, "--actor", "ana", "--role", "analyst"], home)
        assert got.returncode == 0, got.stderr
        doc = json.loads(got.stdout)
        assert doc["body"]["section_b"]["urls"] == [url]  # schema-checked when it was made
        assert doc["body"]["section_a"]["addressee"]["name"] == "Placeholder Pages"  # from the registry
        send = ["referral", "send", str(doc["id"]), "--webhook", web.url("/hook"), "--actor", "ana"]
        early = run_cli([*send, "--role", "analyst"], home)
        assert early.returncode == 1 and "approve" in early.stderr  # not approved yet: nothing sent
        assert not any(r[0] == "/hook" for r in web.requests)
        approve(store, case_id)
        sent = run_cli([*send, "--role", "analyst"], home)
        assert sent.returncode == 0, sent.stderr
        web.pages["/post/9"] = Page(404, b"not found")
        checked = run_cli(["recheck", "--due"], home)
        assert checked.returncode == 0, checked.stderr
    summary = json.loads(checked.stdout)
    assert summary["outcomes"] == {"removed": 1} and summary["removed"][0]["time_to_removal_s"] > 0
    assert "removed" in checked.stderr and " h" in checked.stderr
    assert store.get_case(case_id).state == "removed"
    today = datetime.now(UTC).date().isoformat()
    rep = run_cli(
        ["report", "transparency", "--from", today, "--to", today, "--out", str(tmp_path / "rep")], home
    )
    assert rep.returncode == 0, rep.stderr
    report = json.loads(rep.stdout)
    assert report["removal_rate"] == 1.0 and report["removal_orders"]["executed"] == 1
    assert report["median_hours_to_removal"] is not None
    assert (tmp_path / "rep" / "report.html").read_text("utf-8").count("data:image/png") >= 1
    store.close()
