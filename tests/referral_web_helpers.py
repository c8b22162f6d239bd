"""Shared set-up for the referral forms' tests: a registry with one provider whose contacts are filled in
(for the placeholder case URLs' domain), the authority's details, a session log-in and its CSRF token."""

from __future__ import annotations

import re
from typing import Any

from tests.test_referral_documents import authority
from tests.workflow_helpers import ui_login
from vigil.config import Config

PROVIDER = "placeholder-host"
PROVIDER_EMAIL = "legal@host.test"
PLATFORMS = f"""platforms:
  - key: {PROVIDER}
    name: Placeholder Hosting B.V.
    domains: [example.invalid]
    legal_email: {PROVIDER_EMAIL}
    member_state: nl
    contact_point: {{name: Contact point, email: cp@host.test}}
"""


def referral_config(config: Config) -> Config:
    """The authority of the document tests, and the registry entry of the case URLs' host."""
    (config.home / "platforms.yaml").write_text(PLATFORMS, "utf-8")
    return authority(config)


def login(client: Any, user: str) -> str:
    """Log ``user`` in on the client's cookie jar; returns the session's CSRF token."""
    response = ui_login(client, user)
    assert response.status_code == 303, response.text
    page = client.get("/")
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert found is not None
    return found.group(1)
