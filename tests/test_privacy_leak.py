"""Acceptance: with default settings no clear account identifier appears in any table but the vault, in
any list view, export or log line. ``SURFACES`` collects them: the privacy CLI, every list-like API
response and HTML page of ``create_app`` (every GET route without a path or a required query parameter,
fetched as each role, the analyst first), the case identities the reveal control lists, and the graph's
queries, node details and exports."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.privacy_helpers import CHANNEL, CLEAR, HANDLES, cli, make_item, sample_items
from tests.workflow_helpers import FAST_HASHER, PASSWORD, ui_login
from vigil.boot import open_store
from vigil.config import Config
from vigil.core.model import Case
from vigil.privacy.deconfliction import DeconflictionBlocked, deconfliction_hook
from vigil.privacy.leakcheck import find_leaks, table_texts
from vigil.privacy.mask import mask_identifiers
from vigil.privacy.reveal import RevealRefused, reveal
from vigil.privacy.views import list_row
from vigil.store import Store
from vigil.web.app import create_app
from vigil.web.server import serve_in_thread
from vigil.workflow import accounts

OTHER_EMAIL = "someone.else@example.com"  # only inside content text, which is kept as collected
# Identifiers that staff type into free text (a transition's reason, a lift note): stored as typed, shown
# masked by every audit and history view.
TYPED = ["placeholder_user", "someone@example.org", "+44 20 7946 0123"]
TYPED_NOTE = f"caller @{TYPED[0]} wrote from {TYPED[1]}, phone {TYPED[2]}"
SURFACES: list[Callable[[Store, Path, str], dict[str, str]]] = []


def _cli_surfaces(store: Store, home: Path, url: str) -> dict[str, str]:
    out: dict[str, str] = {}
    accounts.add_user(store, "olga", "investigator", PASSWORD, hasher=FAST_HASHER)
    for args in (
        ["dnr", "add", "account", f"telegram:{HANDLES[0]}", "--reason", "placeholder op", "--actor", "olga"],
        ["hold", "add", "account", f"telegram:{HANDLES[1]}", "--reason", "REF-9", "--actor", "ivy"],
        ["dnr", "lift", "2", "--note", TYPED_NOTE, "--actor", "olga"],
        ["audit", "list", "--limit", "1000"],
        ["dnr", "list", "--actor", "olga"],
        ["hold", "list"],
        ["report", "processing", "--json"],
        ["report", "processing"],
        ["report", "reveals"],
        ["retention", "run", "--dry-run", "--json"],
        ["retention", "run", "--json"],
        ["dnr", "check", "1"],
    ):
        result = cli(args, home, url)
        assert result.exit_code == 0, (args, result.output, result.exception)
        out["cli " + " ".join(args[:2])] = result.output
    return out


SURFACES.append(_cli_surfaces)

# Who looks at the lists: the analyst first (the acceptance), then every other role, so that routes an
# analyst may not read are scanned too.
STAFF = {"ana": "analyst", "vera": "verifier", "otto": "auditor", "adam": "admin", "dana": "dpo"}
STAFF |= {"ivan": "investigator"}
REVEAL = {"reason_code": "referral_check", "reason_text": "check before the removal order"}


def list_routes(app: FastAPI) -> list[str]:
    """Every GET route without a path parameter: the app's lists, pages and exports (routers included
    into routers too: FastAPI >= 0.16x keeps them nested, ``iter_route_contexts`` flattens them)."""
    try:
        from fastapi.routing import iter_route_contexts

        routes: list[Any] = list(iter_route_contexts(app.routes))
    except ImportError:  # older FastAPI: app.routes is already flat
        routes = list(app.routes)
    paths = {
        str(r.path)
        for r in routes
        if getattr(r, "path", None)
        and "GET" in (getattr(r, "methods", None) or ())
        and "{" not in r.path
        and not _asks(r)
    }
    return sorted(paths)


def _asks(route: Any) -> bool:
    """Whether a route needs a query parameter (a query such as the graph's lineage, not a list)."""
    dependant = getattr(getattr(route, "route", route), "dependant", None)
    return any(q.field_info.is_required() for q in getattr(dependant, "query_params", ()))


def _login(client: httpx.Client, user: str) -> None:
    answer = ui_login(client, user)
    assert answer.status_code == 303 and "vigil_session" in client.cookies, answer.text[:300]


def _csrf(client: httpx.Client) -> str:
    return client.get("/").text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


def _app_surfaces(store: Store, home: Path, url: str) -> dict[str, str]:
    for user, role in STAFF.items():
        accounts.add_user(store, user, role, PASSWORD, hasher=FAST_HASHER)
    app = create_app(Config.load(home), store)
    paths = list_routes(app)
    assert {"/", "/api/v1/cases", "/api/v1/audit", "/api/v1/privacy/dnr", "/privacy/dnr"} <= set(paths)
    out: dict[str, str] = {}
    ok: dict[str, set[str]] = {}
    with serve_in_thread(app) as base:
        clients = {user: httpx.Client(base_url=base, timeout=60) for user in STAFF}
        try:
            for user, client in clients.items():
                _login(client, user)
            _act(clients, store)
            for user, client in clients.items():
                for path in paths:
                    answer = client.get(path)
                    out[f"{user} GET {path}"] = answer.text
                    if answer.status_code == 200:
                        ok.setdefault(path, set()).add(user)
                for case_id in _case_ids(store):
                    path = f"/api/v1/privacy/cases/{case_id}/identities"
                    out[f"{user} GET {path}"] = clients[user].get(path).text
                # The history of the case whose reason holds typed identifiers (its item and title hold
                # none: a case page shows content as collected).
                for path in (f"/api/v1/cases/{_case_ids(store)[-1]}", f"/cases/{_case_ids(store)[-1]}"):
                    out[f"{user} GET {path}"] = client.get(path).text
        finally:
            for client in clients.values():
                client.close()
    assert {p for p in paths if p not in ok} == set(), "every list route answered someone"
    assert {"/", "/api/v1/cases", "/dashboard"} <= {p for p, users in ok.items() if "ana" in users}
    # The lists are not empty: what is scanned is the seeded data.
    assert out["ana GET /api/v1/cases"].count('"item_id"') >= 3 and "placeholder" in out["ana GET /"]
    assert (
        "privacy.reveal" in out["otto GET /api/v1/audit"] and "telegram:psa_" in out["ivan GET /privacy/dnr"]
    )
    # The typed reason is on the scanned audit and history views, masked.
    masked = mask_identifiers(TYPED_NOTE)
    for where in ("otto GET /api/v1/audit", "otto GET /api/v1/audit/export", "otto GET /audit"):
        assert masked in out[where].replace("&#34;", '"'), where
    assert masked in out[f"ana GET /api/v1/cases/{_case_ids(store)[-1]}"]
    return out


def _case_ids(store: Store) -> list[int]:
    from vigil.workflow.queue import list_queue

    return [c.id for c in list_queue(store).cases if c.id]


def _act(clients: dict[str, httpx.Client], store: Store) -> None:
    """What people do before the lists are read: an entry on the do-not-refer list (given in clear), a
    reveal by the DPO (its answer holds the clear value; the lists must not), a reveal refused."""
    ivan, dana, ana = clients["ivan"], clients["dana"], clients["ana"]
    moved = ana.post(
        f"/api/v1/cases/{_case_ids(store)[-1]}/transition",
        json={"to": "triage", "reason": TYPED_NOTE},
        headers={"X-CSRF-Token": _csrf(ana)},
    )
    assert moved.status_code == 200, moved.text
    entry = {"kind": "account", "value": f"telegram:{HANDLES[1]}", "reason": "placeholder op", "days": 9}
    added = ivan.post("/api/v1/privacy/dnr", json=entry, headers={"X-CSRF-Token": _csrf(ivan)})
    assert added.status_code == 201, added.text
    case_id = _case_ids(store)[0]
    ids = dana.get(f"/api/v1/privacy/cases/{case_id}/identities").json()["identities"]
    for identity in ids:
        body = {"case_id": case_id, "pseudonym": identity["pseudonym"], **REVEAL}
        shown = dana.post("/api/v1/privacy/reveal", json=body, headers={"X-CSRF-Token": _csrf(dana)})
        assert shown.status_code == 200, shown.text
    assert any(shown.json()["value"] in CLEAR for _ in [0])  # the reveal does show a clear value
    body = {"case_id": case_id, "pseudonym": ids[0]["pseudonym"], **REVEAL}
    assert (
        ana.post("/api/v1/privacy/reveal", json=body, headers={"X-CSRF-Token": _csrf(ana)}).status_code == 403
    )


SURFACES.append(_app_surfaces)


def _graph_surfaces(store: Store, home: Path, url: str) -> dict[str, str]:
    """The graph (``vigil.web.api.graph``, mounted by create_app) built from the seeded items as stored: its
    lists are scanned with the others above; here the queries that take parameters and a node's details."""
    from vigil.graph.outlets import register_outlet
    from vigil.graph.update import update_graph

    register_outlet(store, "Outlet Placeholder", channels=[f"telegram:{CHANNEL}"])
    update_graph(store, list(store.iter_items()))
    app = create_app(Config.load(home), store)
    out: dict[str, str] = {}
    api = "/api/v1/graph"
    with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        _login(client, "ana")
        for path in ("stats", "outlets", "actors", "spreaders", "network", "communities", "export"):
            answer = client.get(f"{api}/{path}")
            assert answer.status_code == 200, (path, answer.text[:300])
            out[f"graph GET {path}"] = answer.text
        nodes = client.get(f"{api}/network").json()["nodes"]
        assert nodes, "the graph has nodes to scan"
        for node in nodes[:10]:
            out[f"graph node {node['id']}"] = client.get(f"{api}/nodes/{node['id']}").text
        asked = {
            "actors of the outlet": ("actors", {"outlet": "Outlet Placeholder"}),
            "lineage": ("lineage", {"outlet": "Outlet Placeholder"}),
            "ego": ("ego", {"node": nodes[0]["key"], "radius": 2}),
            "path": ("path", {"source": nodes[0]["key"], "target": nodes[-1]["key"]}),
            "export graphml": ("export", {"format": "graphml"}),
            "export json": ("export", {"format": "json"}),
        }
        for name, (path, params) in asked.items():
            answer = client.get(f"{api}/{path}", params=params)
            assert answer.status_code == 200, (name, answer.text[:300])
            out[f"graph {name}"] = answer.text
        out["graph page"] = client.get("/graph").text
    assert "Outlet Placeholder" in out["graph GET outlets"]
    return out


SURFACES.append(_graph_surfaces)


def test_no_clear_identifier_outside_the_vault(
    home: Path, config: Config, store: Store, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    shared = open_store(config, url=database_url)  # the same keys as the CLI runs below
    try:
        batch = sample_items(6)
        batch.append(make_item(9, email="third.person@example.org"))
        batch[1].text = f"neutral text, write to {OTHER_EMAIL} or @{HANDLES[0]}"
        shared.add_items(batch)
        # A title built from the text (as detectors do) holds an identifier: lists show it masked.
        titles = [f"placeholder, mentions @{HANDLES[0]} and {OTHER_EMAIL}", "placeholder", "placeholder"]
        case_ids = shared.open_cases([Case(None, i.id, title=t) for i, t in zip(batch, titles, strict=False)])
        added = cli(
            ["dnr", "add", "account", f"telegram:{HANDLES[0]}", "--reason", "op", "--actor", "olga"],
            home,
            database_url,
        )
        assert added.exit_code == 0, added.output
        with pytest.raises(DeconflictionBlocked):
            deconfliction_hook(shared, case_ids[0], "decision", "proposed", "alex")
        with pytest.raises(RevealRefused):
            reveal(
                shared, "alex", ["analyst"], case_ids[0], "psa_" + "0" * 24, "referral_check", "placeholder x"
            )
        texts: dict[str, str] = {}
        for surface in SURFACES:
            texts.update(surface(shared, home, database_url))
        rows = [list_row(item) for item in shared.iter_items()]
        texts["list rows"] = json.dumps(rows, ensure_ascii=False)
        texts["log"] = caplog.text
        texts.update({f"table {k}": v for k, v in table_texts(shared).items()})
        assert OTHER_EMAIL not in texts["list rows"]  # identifiers inside text are masked in lists
        found = find_leaks(texts, [*CLEAR, "third.person@example.org", OTHER_EMAIL, *TYPED])
        # Content keeps what was collected: the handle and address written inside a post and in the title
        # made from it are found in items.text and cases.title (so the scan does find what is there), and
        # nowhere else: every list shows them masked.
        content = {(f"table {t}", i) for t in ("items", "cases") for i in (HANDLES[0], OTHER_EMAIL)}
        # Free text typed by staff is stored as typed (the audit log is hash-chained: never rewritten).
        content |= {(f"table {t}", i) for t in ("audit_log", "case_events") for i in TYPED}
        assert content <= set(found)
        assert [leak for leak in found if leak not in content] == []
        assert "identity_vault" in table_texts(shared, skip=())
    finally:
        shared.close()
