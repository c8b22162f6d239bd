"""Deliver a document to a webhook: JSON POST signed with HMAC-SHA256 over ``timestamp.body``
(``X-Vigil-Timestamp``, ``X-Vigil-Signature: sha256=<hex>``), retried with exponential back-off on
connection errors and 5xx/429 answers."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from vigil.config import Config
from vigil.core.model import utcnow
from vigil.errors import ConfigError, UsageError
from vigil.referral.delivery import clear_to_send, record_delivery
from vigil.referral.destinations import DestinationOverride, clear_destination
from vigil.store import Store

SIGNATURE_HEADER = "X-Vigil-Signature"
TIMESTAMP_HEADER = "X-Vigil-Timestamp"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def post_signed(
    url: str,
    payload: dict[str, Any],
    secret: bytes,
    retries: int = 4,
    backoff: float = 0.5,
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[bool, int, dict[str, Any]]:
    """POST until a 2xx answer or ``retries`` more tries; returns (ok, attempts, details)."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    history: list[str] = []
    with httpx.Client(timeout=timeout, trust_env=False) as client:
        for attempt in range(1, retries + 2):
            stamp = str(int(utcnow().timestamp()))
            headers = {
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: stamp,
                SIGNATURE_HEADER: sign(secret, stamp, body),
            }
            try:
                response = client.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                history.append(f"{type(exc).__name__}")
            else:
                history.append(str(response.status_code))
                if 200 <= response.status_code < 300:
                    return True, attempt, {"answers": history}
                if response.status_code < 500 and response.status_code != 429:
                    return False, attempt, {"answers": history}
            if attempt <= retries:
                sleep(backoff * 2 ** (attempt - 1))
    return False, retries + 1, {"answers": history}


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
    ok, attempts, details = post_signed(
        url,
        payload,
        secret.encode(),
        int(hook.get("retries", 4)),
        float(hook.get("backoff", 0.5)),
        config.http_timeout,
        sleep,
    )
    details.update(overridden)
    record_delivery(store, document, "webhook", url, ok, attempts, actor, details, role=role)
    return 0 if ok else 1
