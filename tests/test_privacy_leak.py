"""Acceptance: with default settings no clear account identifier appears in any table but the vault, in
any list view, export or log line this package produces. ``SURFACES`` is where more surfaces (the API's
list responses, the UI's pages) are added once they are wired in."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.privacy_helpers import CLEAR, HANDLES, cli, make_item, sample_items
from vigil.config import Config
from vigil.core.model import Case
from vigil.privacy.deconfliction import DeconflictionBlocked, deconfliction_hook
from vigil.privacy.leakcheck import find_leaks, table_texts
from vigil.privacy.reveal import RevealRefused, reveal
from vigil.privacy.views import list_row
from vigil.store import Store

OTHER_EMAIL = "someone.else@example.com"  # only inside content text, which is kept as collected
SURFACES: list[Callable[[Store, Path, str], dict[str, str]]] = []


def _cli_surfaces(store: Store, home: Path, url: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for args in (
        ["dnr", "add", "account", f"telegram:{HANDLES[0]}", "--reason", "placeholder op", "--actor", "olga"],
        ["hold", "add", "account", f"telegram:{HANDLES[1]}", "--reason", "REF-9", "--actor", "ivy"],
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


def test_no_clear_identifier_outside_the_vault(
    home: Path, config: Config, store: Store, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    shared = Store.open(config, url=database_url)  # the same keys as the CLI runs below
    try:
        batch = sample_items(6)
        batch.append(make_item(9, email="third.person@example.org"))
        batch[1].text = f"neutral text, write to {OTHER_EMAIL} or @{HANDLES[0]}"
        shared.add_items(batch)
        case_ids = shared.open_cases([Case(None, i.id, title="placeholder") for i in batch[:3]])
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
        found = find_leaks(texts, [*CLEAR, "third.person@example.org"])
        # Content text keeps what was collected: the handle written inside a post is found in items.text
        # (so the scan does find what is there), and nowhere else.
        assert ("table items", HANDLES[0]) in found
        assert [leak for leak in found if leak != ("table items", HANDLES[0])] == []
        assert "identity_vault" in table_texts(shared, skip=())
    finally:
        shared.close()
