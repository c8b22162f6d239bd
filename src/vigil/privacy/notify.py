"""Delivering do-not-refer notifications to a webhook (optional; ``[privacy] notify_webhook``), through the
one webhook sender (``vigil.net.webhook``). Each notification not yet delivered (or raised again since) is
POSTed as JSON, with ``X-Vigil-Timestamp`` and, when ``[privacy] notify_webhook_secret`` is set, signed
(``X-Vigil-Signature``); a connection error, 5xx or 429 is retried with back-off. A 2xx marks it delivered,
anything else leaves it for the next run. A receiver that still fails after the retries ends the run: the
notifications not tried stay pending and are listed with the same error. The reason of the entry is never
sent."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from vigil.config import Config
from vigil.core.model import utcnow
from vigil.net.webhook import WebhookSender
from vigil.privacy.tables import notifications
from vigil.store import Store

RETRIES = 2
BACKOFF = 0.5


@dataclass(slots=True)
class Delivery:
    delivered: int = 0
    failed: list[dict[str, object]] = field(default_factory=list)


def webhook_secret(config: Config) -> bytes | None:
    """``[privacy] notify_webhook_secret``, when set."""
    raw: Any = config.extra.get("privacy") or {}
    secret = str(raw.get("notify_webhook_secret") or "") if isinstance(raw, dict) else ""
    return secret.encode() if secret else None


def deliver_webhook(
    store: Store,
    config: Config,
    url: str,
    timeout: float | None = None,
    limit: int = 500,
    *,
    retries: int = RETRIES,
    backoff: float = BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """POST the pending notifications to ``url`` (time-out: ``http_timeout`` unless given)."""
    with store.read() as conn:
        rows = list(
            conn.execute(
                select(notifications)
                .where(notifications.c.delivered_at.is_(None))
                .order_by(notifications.c.id)
                .limit(limit)
            ).mappings()
        )
    result = Delivery()
    with WebhookSender(config, webhook_secret(config), retries, backoff, timeout, sleep) as sender:
        for n, row in enumerate(rows):
            body = {
                "id": row["id"],
                "recipient": row["recipient"],
                "kind": row["kind"],
                "case_id": row["case_id"],
                "entry_id": row["entry_id"],
                "actor": row["actor"],
                "attempts": row["attempts"],
                "last_at": row["last_at"].isoformat(),
                "message": row["message"],
            }
            posted = sender.post(url, body)
            if not posted.ok:
                result.failed.append({"id": row["id"], "error": posted.error})
                if posted.retryable:  # the receiver is down: the rest wait for the next run
                    result.failed.extend({"id": r["id"], "error": posted.error} for r in rows[n + 1 :])
                    break
                continue
            with store.write() as conn:
                conn.execute(
                    update(notifications)
                    .where(notifications.c.id == row["id"], notifications.c.last_at == row["last_at"])
                    .values(delivered_at=utcnow())
                )
            result.delivered += 1
    return result
