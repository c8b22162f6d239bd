"""Delivering do-not-refer notifications to a webhook (optional; ``[privacy] notify_webhook``). Each
notification not yet delivered (or raised again since) is POSTed as JSON; a 2xx marks it delivered,
anything else leaves it for the next run. The reason of the entry is never sent."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from sqlalchemy import select, update

from vigil.core.model import utcnow
from vigil.privacy.tables import notifications
from vigil.store import Store


@dataclass(slots=True)
class Delivery:
    delivered: int = 0
    failed: list[dict[str, object]] = field(default_factory=list)


def deliver_webhook(store: Store, url: str, timeout: float = 10.0, limit: int = 500) -> Delivery:
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
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for row in rows:
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
            try:
                response = client.post(url, json=body)
                ok = 200 <= response.status_code < 300
                why = "" if ok else f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                ok, why = False, f"{type(exc).__name__}: {exc}"
            if ok:
                with store.write() as conn:
                    conn.execute(
                        update(notifications)
                        .where(notifications.c.id == row["id"], notifications.c.last_at == row["last_at"])
                        .values(delivered_at=utcnow())
                    )
                result.delivered += 1
            else:
                result.failed.append({"id": row["id"], "error": why})
    return result
