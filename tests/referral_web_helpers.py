"""Shared set-up for the referral forms' tests: a registry with one provider whose contacts are filled in
(for the placeholder case URLs' domain), the authority's details, a session log-in and its CSRF token."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx

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


def register_provider(config: Config, webhook_url: str = "") -> Config:
    """The registry entry of the placeholder provider (the documents' addressee), with ``webhook_url`` if
    given: the destinations a document for it may be sent to without an override."""
    hook = f"    webhook_url: {webhook_url}\n" if webhook_url else ""
    (config.home / "platforms.yaml").write_text(PLATFORMS + hook, "utf-8")
    return config


def referral_config(config: Config, webhook_url: str = "") -> Config:
    """The authority of the document tests, and the registry entry of the case URLs' host."""
    return authority(register_provider(config, webhook_url))


def login(client: Any, user: str) -> str:
    """Log ``user`` in on the client's cookie jar; returns the session's CSRF token."""
    response = ui_login(client, user)
    assert response.status_code == 303, response.text
    page = client.get("/")
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert found is not None
    return found.group(1)


@dataclass(kw_only=True)
class Browsers:
    """Browsers (cookie jars) of one test against the app at ``url``; close them with :meth:`close`."""

    url: str
    clients: list[httpx.Client] = field(default_factory=list)
    sessions: dict[str, tuple[httpx.Client, str]] = field(default_factory=dict)

    def client(self, user: str | None = None) -> tuple[httpx.Client, str]:
        """A browser of its own, logged in as ``user``; and its CSRF token."""
        client = httpx.Client(base_url=self.url, timeout=30)
        self.clients.append(client)
        return client, login(client, user) if user else ""

    def session(self, user: str) -> tuple[httpx.Client, str]:
        """One logged-in browser per user for the whole test (hypothesis runs many examples in one)."""
        if user not in self.sessions:
            self.sessions[user] = self.client(user)
        return self.sessions[user]

    def close(self) -> None:
        for client in self.clients:
            client.close()
