"""Queue tabs and configured SLAs on SQLite and PostgreSQL: the counts of a seeded queue, the SQL overdue
rule against the Python clocks, and the same through the API on a real server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from tests.queue_tabs_helpers import EXPECTED_ANA, EXPECTED_VERA, OVERDUE, SLA_TOML, Seeded, seed_tabs
from tests.workflow_helpers import bearer, make_users, ui_login
from vigil.config import Config
from vigil.core.model import Severity, utcnow
from vigil.store import Store
from vigil.web.app import create_app
from vigil.web.server import serve_in_thread
from vigil.workflow.queue import MAX_PAGE, list_queue
from vigil.workflow.sla import deadlines, next_deadline
from vigil.workflow.sla_config import SlaSettings
from vigil.workflow.tabs import TABS, Viewer, overdue_per_queue, tab_clause, tab_counts


def _configured(config: Config) -> Config:
    (config.home / "config.toml").write_text(SLA_TOML, "utf-8")
    return Config.load(config.home)


@pytest.fixture
def seeded(store: Store) -> Seeded:
    make_users(store)
    return seed_tabs(store)


def _ids(store: Store, tab: str, viewer: Viewer) -> set[int]:
    page = list_queue(store, limit=MAX_PAGE, where=tab_clause(tab, viewer))
    return {int(c.id or 0) for c in page.cases}


def test_tab_counts_of_a_seeded_queue(store: Store, seeded: Seeded, config: Config) -> None:
    sla = SlaSettings.from_config(_configured(config))
    now = utcnow()
    for viewer, expected in (
        (Viewer("vera", "verifier", sla, now), EXPECTED_VERA),
        (Viewer("ana", "analyst", sla, now), EXPECTED_ANA),
    ):
        assert tab_counts(store, viewer) == expected
        for tab in TABS:  # the list behind each tab holds what its count says
            assert len(_ids(store, tab, viewer)) == expected[tab]
    vera = Viewer("vera", "verifier", sla, now)
    assert _ids(store, "overdue", vera) == {seeded[name] for name in OVERDUE}
    assert _ids(store, "approval", vera) == {seeded["proposed_ana"]}
    lena = Viewer("lena", "legal", sla, now)  # an approver who proposed nothing sees both proposals
    assert _ids(store, "approval", lena) == {seeded["proposed_ana"], seeded["proposed_vera"]}
    assert overdue_per_queue(store, vera) == {
        "threat_to_life": 1,
        "live_attack": 0,
        "official_release": 3,
        "instructional": 0,
        "other": 0,
    }


def test_sql_overdue_rule_matches_the_clocks(store: Store, seeded: Seeded, config: Config) -> None:
    """The overdue tab (SQL) and the countdowns (Python) agree on every case, with the configured SLAs
    and with the defaults, and move together when the setting changes (deadlines are computed)."""
    now = utcnow()
    for sla in (SlaSettings.from_config(_configured(config)), SlaSettings()):
        flagged = _ids(store, "overdue", Viewer("vera", "verifier", sla, now))
        for case_id in seeded.ids.values():
            case = store.get_case(case_id)
            assert case is not None
            due = next_deadline(case, sla)
            assert (case_id in flagged) == bool(due and due.due < now), (case_id, due)
    # With the defaults only the legal removal-order clock is still past due.
    assert _ids(store, "overdue", Viewer("vera", "verifier", SlaSettings(), now)) == {seeded["sent_late"]}


def test_deadlines_follow_the_settings(store: Store, seeded: Seeded, config: Config) -> None:
    sla = SlaSettings.from_config(_configured(config))
    fresh = store.get_case(seeded["new_fresh"])
    assert fresh is not None
    (review,) = deadlines(fresh, sla)
    assert review.due - fresh.opened_at == timedelta(hours=2)
    assert review.name == "review (official_release): 2h"
    (default_review,) = deadlines(fresh, SlaSettings())
    assert default_review.due - fresh.opened_at == timedelta(hours=4)
    proposed = store.get_case(seeded["proposed_ana"])
    assert proposed is not None
    names = [d.name for d in deadlines(proposed, sla)]
    assert "four-eyes approval: 1h" in names
    assert all(not n.startswith("four-eyes") for n in (d.name for d in deadlines(proposed, SlaSettings())))
    sent = store.get_case(seeded["sent_late"])
    assert sent is not None
    first = deadlines(sent, sla)[0]  # the legal clock does not move with the settings
    assert first.name.startswith("removal order") and first.seconds_left(utcnow()) < 0


@dataclass
class Api:
    client: httpx.Client
    seeded: Seeded


@pytest.fixture
def api(store: Store, config: Config, seeded: Seeded) -> Iterator[Api]:
    app = create_app(_configured(config), store)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield Api(client, seeded)


def test_tabs_through_the_api(api: Api) -> None:
    vera, ana = bearer(api.client, "vera"), bearer(api.client, "ana")
    answer = api.client.get("/api/v1/cases/tabs", headers=vera)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {t["key"]: t["count"] for t in body["tabs"]} == EXPECTED_VERA
    assert [t["label"] for t in body["tabs"]][:2] == ["All", "New"]
    assert body["sla"]["review"]["official_release"] == "2h" and body["sla"]["approval"] == "1h"
    counts = api.client.get("/api/v1/cases/tabs", headers=ana).json()["tabs"]
    assert {t["key"]: t["count"] for t in counts} == EXPECTED_ANA
    overdue = api.client.get("/api/v1/cases?tab=overdue&limit=50", headers=vera).json()["cases"]
    assert {c["id"] for c in overdue} == {api.seeded[n] for n in OVERDUE}
    assert all(c["deadline"]["overdue"] for c in overdue)
    fresh = api.client.get(f"/api/v1/cases/{api.seeded['new_fresh']}", headers=vera).json()
    (clock,) = fresh["deadlines"]
    assert clock["name"] == "review (official_release): 2h"
    assert 2 * 3600 - 120 < clock["seconds_left"] <= 2 * 3600  # configured 2 h, not the default 4 h
    mine = api.client.get("/api/v1/cases?tab=mine&state=proposed", headers=vera).json()["cases"]
    assert [c["id"] for c in mine] == [api.seeded["proposed_vera"]]
    assert api.client.get("/api/v1/cases?tab=bogus", headers=vera).status_code == 422
    assert api.client.get("/api/v1/cases/tabs").status_code == 401


def test_tabs_on_the_queue_page(api: Api) -> None:
    assert ui_login(api.client, "vera").status_code == 303
    page = api.client.get("/?tab=overdue")
    assert page.status_code == 200
    html = page.text
    assert 'href="/?tab=overdue" data-tab="overdue" aria-current="page"' in html
    assert html.count('aria-current="page"') == 1
    for name in OVERDUE:
        assert f'href="/cases/{api.seeded[name]}"' in html
    assert f'href="/cases/{api.seeded["new_fresh"]}"' not in html
    for key, count in EXPECTED_VERA.items():
        assert f'data-tab="{key}"' in html and f'{TABS[key]} <span class="count">{count}</span>' in html
    bad = api.client.get("/?tab=<script>")
    assert bad.status_code == 400 and "unknown tab" in bad.text and "<script>" not in bad.text


def test_dashboard_counts_overdue_per_queue(api: Api) -> None:
    assert ui_login(api.client, "ana").status_code == 303
    page = api.client.get("/dashboard").text
    assert "Overdue cases per queue" in page
    assert f"{Severity.OFFICIAL_RELEASE}: 3" in page and f"{Severity.THREAT_TO_LIFE}: 1" in page
