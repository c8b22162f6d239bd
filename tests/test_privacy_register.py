"""The processing register counts each class, shows the configured legal basis and who did what."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection

from tests.privacy_helpers import make_item, open_case
from vigil.audit import log as audit
from vigil.config import Config
from vigil.privacy.register import NOT_CONFIGURED, processing_register
from vigil.privacy.settings import PrivacySettings, RetentionPolicy
from vigil.store import Store


def test_register_counts_basis_and_access(store: Store, home: Path) -> None:
    (home / "config.toml").write_text(
        '[privacy.legal_basis]\nraw_items = "national law, art. 8 LED"\n[retention]\nraw_items_days = 30\n',
        "utf-8",
    )
    config = Config.load(home)
    store.add_items([make_item(i) for i in range(3)])
    open_case(store, make_item(5), "dismissed")
    audit.append(store, "vic", "case.view", "case", 1)
    audit.append(store, "vic", "case.view", "case", 1)

    def evidence(conn: Connection) -> int:
        return 7

    register = processing_register(
        store,
        PrivacySettings.from_config(config),
        RetentionPolicy.from_config(config),
        extra_counts={"evidence": evidence},
    )
    by_class = {c["class"]: c for c in register["classes"]}
    assert (
        by_class["raw_items"]["count"] == 3
        and by_class["raw_items"]["retention"] == "30 days after collection"
    )
    assert by_class["raw_items"]["legal_basis"] == "national law, art. 8 LED"
    assert (
        by_class["dismissed_cases"]["count"] == 1
        and by_class["dismissed_cases"]["legal_basis"] == NOT_CONFIGURED
    )
    assert by_class["evidence"]["count"] == 7
    assert by_class["audit_log"]["retention"] == "never deleted" and by_class["audit_log"]["count"] == 2
    assert by_class["accounts"]["count"] == 3 and register["pseudonymisation"]["enabled"] is True
    (view,) = [a for a in register["access"] if a["actor"] == "vic"]
    assert (view["action"], view["count"]) == ("case.view", 2)
