"""The one HTTP client policy: every HTTP request vigil makes is built here, from one configuration.

An ``HttpPolicy`` holds what every request obeys: the SSRF rule and DNS pinning (``vigil.net.guard``), TLS
verification against the system's CAs or ``ca_bundle``, the user agent, the time-out, how many redirects a
fetch may follow and how many bytes it may read. ``async_client`` and ``sync_client`` are its two faces:
httpx clients whose transport is the guard wrapped around httpx's own, that follow no redirect themselves
(unless asked: RDAP), never retry at the connection level and take no proxy from the environment (a
proxy would resolve and connect past the guard).

Who uses which face:

- async (``net.client.PoliteFetcher``: per-host limits and robots.txt on top): the crawler, media fetch,
  ``vigil scan URL`` and watched feeds (``net.download``), mirrors;
- sync (``net.hops.HopRecorder``: every hop and its DNS answers recorded): evidence capture and re-checks;
  RDAP (``referral.rdap``: redirects followed through the guard);
- sync, ``guarded=False`` (``net.webhook.WebhookSender``): webhook receivers the operator names (the
  provider registry, ``[privacy] notify_webhook``) or an audited override allows. They may sit on an
  internal network, so the SSRF rule does not apply to them; everything else does.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from vigil.config import Config
from vigil.net.guard import AddressLookup, AddressResolver, Guard, GuardedTransport, SyncGuardedTransport

#: Status codes that send a client elsewhere (Location).
REDIRECTS = frozenset({301, 302, 303, 307, 308})
DEFAULT_MAX_BYTES = 10 * 1024**2
DEFAULT_MAX_REDIRECTS = 10


def redirect_target(url: str, status: int, location: str) -> str | None:
    """Where a response sends the client next (``location`` resolved against ``url``), or None."""
    return urljoin(url, location) if status in REDIRECTS and location else None


def tls_context(ca_bundle: str) -> ssl.SSLContext | bool:
    """What servers are verified against: ``ca_bundle`` (a PEM file) when set, else httpx's default (the
    ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` of the environment, or certifi's CAs)."""
    return ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    guard: Guard
    #: PEM file of CA certificates to trust instead of the default ones (``Config.ca_bundle``).
    ca_bundle: str
    user_agent: str
    timeout: float = 20.0
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        timeout: float | None = None,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> HttpPolicy:
        """The policy of ``config`` (its SSRF rule, ``ca_bundle``, ``user_agent`` and ``http_timeout``)."""
        return cls(
            guard=Guard.from_config(config),
            ca_bundle=config.ca_bundle,
            user_agent=config.user_agent,
            timeout=config.http_timeout if timeout is None else timeout,
            max_redirects=max_redirects,
            max_bytes=max_bytes,
        )

    def async_client(self, resolver: AddressResolver | None = None) -> httpx.AsyncClient:
        """The async face: every request resolved by ``resolver``, checked and pinned."""
        inner = httpx.AsyncHTTPTransport(retries=0, verify=tls_context(self.ca_bundle))
        return httpx.AsyncClient(
            transport=GuardedTransport(self.guard, resolver, inner),
            timeout=self.timeout,
            follow_redirects=False,
            headers={"User-Agent": self.user_agent},
            trust_env=False,
        )

    def sync_client(
        self, lookup: AddressLookup | None = None, *, guarded: bool = True, follow_redirects: bool = False
    ) -> httpx.Client:
        """The sync face: every request resolved by ``lookup``, checked and pinned (unless ``guarded`` is
        False: an operator-named destination). With ``follow_redirects`` httpx follows up to
        ``max_redirects``, each hop through the guard."""
        inner = httpx.HTTPTransport(retries=0, verify=tls_context(self.ca_bundle))
        transport: httpx.BaseTransport = SyncGuardedTransport(self.guard, lookup, inner) if guarded else inner
        return httpx.Client(
            transport=transport,
            timeout=self.timeout,
            follow_redirects=follow_redirects,
            max_redirects=self.max_redirects,
            headers={"User-Agent": self.user_agent},
            trust_env=False,
        )
