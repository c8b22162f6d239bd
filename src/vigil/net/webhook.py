"""The one webhook sender: JSON POSTs signed with HMAC-SHA256 over ``timestamp.body`` (``X-Vigil-Timestamp``,
``X-Vigil-Signature: sha256=<hex>``), retried with exponential back-off on connection errors and 5xx/429
answers; any other answer ends the tries. Used by referral delivery (``referral.webhook``) and do-not-refer
notifications (``privacy.notify``).

Receivers check a delivery with ``verify(secret, timestamp, body, signature)`` (and should refuse old
timestamps). The client is the policy's sync face (``HttpPolicy.sync_client``) with ``guarded=False``:
webhook receivers are named by the operator (the provider registry, config) or an audited override, and may
sit on an internal network; TLS (``ca_bundle``), the user agent and the time-out are the policy's, no
redirect is followed and no proxy is taken from the environment.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from vigil.config import Config
from vigil.core.model import utcnow
from vigil.net.policy import HttpPolicy

SIGNATURE_HEADER = "X-Vigil-Signature"
TIMESTAMP_HEADER = "X-Vigil-Timestamp"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def should_retry(status: int) -> bool:
    """A server error or "too many requests": worth another try after a pause."""
    return status >= 500 or status == 429


@dataclass(slots=True)
class Posted:
    """The outcome of one delivery: whether a 2xx came back, after how many tries, and each try's answer
    (the status code, or the exception's class name when none came)."""

    ok: bool
    attempts: int
    answers: list[str] = field(default_factory=list)
    #: The last exception as "Class: message", when the last try got no answer.
    failure: str = ""

    @property
    def error(self) -> str:
        """Why it was not delivered ("HTTP 500", "ConnectError: ..."); empty when delivered."""
        if self.ok or not self.answers:
            return ""
        last = self.answers[-1]
        return f"HTTP {last}" if last.isdigit() else self.failure or last

    @property
    def retryable(self) -> bool:
        """Whether the last answer was a connection error, a 5xx or a 429 (the receiver, not this payload)."""
        if self.ok or not self.answers:
            return False
        last = self.answers[-1]
        return not last.isdigit() or should_retry(int(last))


class WebhookSender:
    """``with WebhookSender(config, secret) as s: posted = s.post(url, payload)``. Without a secret the
    timestamp is sent and the signature left out."""

    def __init__(
        self,
        config: Config,
        secret: bytes | None,
        retries: int = 4,
        backoff: float = 0.5,
        timeout: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.secret = secret
        self.retries = max(0, retries)
        self.backoff = backoff
        self.sleep = sleep
        self.client = HttpPolicy.from_config(config, timeout=timeout).sync_client(guarded=False)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def headers(self, body: bytes) -> dict[str, str]:
        stamp = str(int(utcnow().timestamp()))
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: stamp}
        if self.secret is not None:
            headers[SIGNATURE_HEADER] = sign(self.secret, stamp, body)
        return headers

    def post(self, url: str, payload: dict[str, Any]) -> Posted:
        """POST ``payload`` (JSON, keys sorted) until a 2xx answer or ``retries`` more tries; each try is
        signed afresh with its own timestamp. ``backoff * 2**(n-1)`` seconds pass before the n-th retry."""
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
        posted = Posted(False, 0)
        for attempt in range(1, self.retries + 2):
            posted.attempts = attempt
            try:
                response = self.client.post(url, content=body, headers=self.headers(body))
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                posted.answers.append(type(exc).__name__)
                posted.failure = f"{type(exc).__name__}: {exc}"
            else:
                posted.answers.append(str(response.status_code))
                if 200 <= response.status_code < 300:
                    posted.ok = True
                    return posted
                if not should_retry(response.status_code):
                    return posted
            if attempt <= self.retries:
                self.sleep(self.backoff * 2 ** (attempt - 1))
        return posted
