"""The takedown API on a real uvicorn server: a case's evidence, documents, deliveries, replies, re-checks
and time to removal; recording a provider's reply; the transparency figures. Behind authentication."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from tests.takedown_helpers import Referred, referred_and_removed
from tests.workflow_helpers import bearer, make_users
from vigil.audit import log as audit
from vigil.config import Config
from vigil.evidence.tables import evidence_parts
from vigil.store import Store
from vigil.web.app import create_app
from vigil.web.server import serve_in_thread


@dataclass
class Api:
    client: httpx.Client
    store: Store
    done: Referred


@pytest.fixture
def api(store: Store, config: Config) -> Iterator[Api]:
    make_users(store)
    with referred_and_removed(store, config) as done:
        app = create_app(done.config, store)
        with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=30) as client:
            yield Api(client, store, done)


def test_takedown_of_a_case(api: Api) -> None:
    case_id, doc = api.done.case_id, api.done.document
    assert api.client.get(f"/api/v1/cases/{case_id}/takedown").status_code == 401
    vera = bearer(api.client, "vera")
    got = api.client.get(f"/api/v1/cases/{case_id}/takedown", headers=vera)
    assert got.status_code == 200, got.text
    body = got.json()
    (capture,) = body["captures"]
    assert capture["captured_by"] == "ana" and capture["warc_sha256"] == api.done.capture.warc_sha256
    with api.store.read() as conn:
        stored = sorted(conn.execute(select(evidence_parts.c.sha256)).scalars())
    assert sorted(p["sha256"] for p in capture["parts"]) == stored and len(stored) >= 3
    (document,) = body["documents"]
    assert document["reference"] == doc["reference"] and document["status"] == "executed"
    assert "body" not in document  # the order itself is fetched as a document, not in this summary
    (delivery,) = document["deliveries"]
    assert delivery["channel"] == "webhook" and delivery["ok"] is True
    assert [r["kind"] for r in document["replies"]] == ["annex_ii"]
    (watch,) = body["watches"]
    assert watch["status"] == "removed" and [c["outcome"] for c in watch["checks"]] == ["removed"]
    assert watch["time_to_removal_s"] > 0 and body["time_to_removal_s"] == watch["time_to_removal_s"]
    assert api.client.get("/api/v1/cases/999999/takedown", headers=vera).status_code == 404
    views = [e for e in audit.entries(api.store, 500) if e.action == "case.view" and e.actor == "vera"]
    assert views and views[-1].details.get("part") == "takedown"


def test_recording_replies_through_the_api(api: Api) -> None:
    doc = api.done.document
    path = f"/api/v1/documents/{doc['id']}/replies"
    complaint = {"kind": "complaint", "data": {"by": "content provider"}}
    assert api.client.post(path, json=complaint).status_code == 401
    otto = bearer(api.client, "otto")
    assert api.client.post(path, json=complaint, headers=otto).status_code == 403  # auditors only read
    ana = bearer(api.client, "ana")
    bad = {"kind": "annex_iii", "data": {"reference": doc["reference"], "reasons": ["force_majeure"]}}
    refused = api.client.post(path, json=bad, headers=ana)
    assert refused.status_code == 400 and "Annex III" in refused.json()["reason"]
    assert api.client.post(path, json={"kind": "shrug"}, headers=ana).status_code == 422
    made = api.client.post(path, json=complaint, headers=ana)
    assert made.status_code == 201, made.text
    takedown = api.client.get(f"/api/v1/cases/{api.done.case_id}/takedown", headers=ana).json()
    assert [r["kind"] for r in takedown["documents"][0]["replies"]] == ["annex_ii", "complaint"]


def test_transparency_figures(api: Api) -> None:
    vera = bearer(api.client, "vera")
    today = api.done.document["created_at"].date().isoformat()
    got = api.client.get(f"/api/v1/reports/transparency?start={today}&end={today}", headers=vera)
    assert got.status_code == 200, got.text
    report = got.json()
    assert report["removal_orders"]["issued"] == 1 and report["removal_orders"]["executed"] == 1
    assert report["removal_rate"] == 1.0 and report["providers"]["placeholder-host"]["removed"] == 1
    backwards = api.client.get("/api/v1/reports/transparency?start=2026-02-02&end=2026-02-01", headers=vera)
    assert backwards.status_code == 400
    junk = api.client.get("/api/v1/reports/transparency?start=yesterday", headers=vera)
    assert junk.status_code == 422
    assert api.client.get("/api/v1/reports/transparency").status_code == 401
