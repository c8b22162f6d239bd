"""Deliver a document to a webhook through the one webhook sender (``vigil.net.webhook``): a JSON POST signed
with HMAC-SHA256 over ``timestamp.body`` (``X-Vigil-Timestamp``, ``X-Vigil-Signature: sha256=<hex>``),
retried with exponential back-off on connection errors and 5xx/429 answers (``[webhook] secret, retries,
backoff``). ``sign`` and ``verify`` are the sender's, kept importable from here for receivers."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from vigil.config import Config
from vigil.errors import ConfigError, UsageError
from vigil.net.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSender, sign, verify
from vigil.referral.delivery import clear_to_send, record_delivery
from vigil.referral.destinations import DestinationOverride, clear_destination
from vigil.store import Store

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "send_webhook", "sign", "verify"]


def send_webhook(
    store: Store,
    config: Config,
    document: dict[str, Any],
    url: str,
    actor: str,
    *,
    role: str,
    sleep: Callable[[float], None] = time.sleep,
    override: DestinationOverride | None = None,
) -> int:
    """POST ``document`` once the review allows it and ``url`` is the provider's in the registry (or
    ``override`` allows another URL); else raise, nothing sent. 0 if delivered."""
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"not a webhook URL: {url!r}")
    secret = str((config.extra.get("webhook") or {}).get("secret") or "")
    if len(secret) < 16:
        raise ConfigError("webhook delivery needs [webhook] secret (16 characters or more) in config.toml")
    clear_to_send(store, document, actor, role)
    overridden = clear_destination(store, config, document, "webhook", url, actor, override)
    hook = config.extra.get("webhook") or {}
    payload = {"kind": document["kind"], "reference": document["reference"], "document": document["body"]}
    with WebhookSender(
        config,
        secret.encode(),
        int(hook.get("retries", 4)),
        float(hook.get("backoff", 0.5)),
        config.http_timeout,
        sleep,
    ) as sender:
        posted = sender.post(url, payload)
    details: dict[str, Any] = {"answers": posted.answers, **overridden}
    record_delivery(store, document, "webhook", url, posted.ok, posted.attempts, actor, details, role=role)
    return 0 if posted.ok else 1
