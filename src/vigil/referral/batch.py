"""An action day's batch: the documents drafted in a window and cleared to go (approved by a second person,
through the do-not-refer gate), grouped by provider, as CSV and JSON files (one pair per provider) for
hand-over through a channel vigil does not speak (a portal, a liaison). Documents not cleared are left out
and listed with the reason; documents already sent are not handed over again."""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from vigil.errors import UsageError
from vigil.referral.delivery import clear_to_send, record_delivery
from vigil.referral.tables import referral_documents
from vigil.store import Store
from vigil.workflow.errors import WorkflowError

FIELDS = ("reference", "kind", "case_id", "url", "created_at", "provider")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] or "unknown"


def export_batch(
    store: Store,
    out: Path,
    start: datetime,
    end: datetime,
    actor: str,
    mark_sent: bool = True,
    *,
    role: str,
) -> dict[str, Any]:
    with store.read() as conn:
        drafts = [
            dict(r)
            for r in conn.execute(
                select(referral_documents)
                .where(
                    referral_documents.c.created_at >= start,
                    referral_documents.c.created_at < end,
                    referral_documents.c.status == "draft",
                )
                .order_by(referral_documents.c.provider, referral_documents.c.id)
            ).mappings()
        ]
    docs, skipped = [], []
    for doc in drafts:
        try:
            clear_to_send(store, doc, actor, role)
        except (UsageError, WorkflowError) as exc:
            skipped.append({"document": doc["id"], "reference": doc["reference"], "why": str(exc)})
        else:
            docs.append(doc)
    groups: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        groups.setdefault(doc["provider"] or "unknown", []).append(doc)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"providers": {}, "documents": len(docs), "skipped": skipped}
    for provider, group in groups.items():
        base = out / _safe(provider)
        rows = [
            {
                "reference": d["reference"],
                "kind": d["kind"],
                "case_id": d["case_id"],
                "url": url,
                "created_at": d["created_at"].isoformat(),
                "provider": provider,
            }
            for d in group
            for url in d["urls"]
        ]
        with base.with_suffix(".csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows(rows)
        base.with_suffix(".json").write_text(
            json.dumps(
                {
                    "provider": provider,
                    "documents": [
                        {
                            **d,
                            "created_at": d["created_at"].isoformat(),
                            "received_at": None,
                            "deadline_at": None,
                        }
                        for d in group
                    ],
                },
                indent=1,
                default=str,
            ),
            "utf-8",
        )
        summary["providers"][provider] = {
            "documents": len(group),
            "urls": len(rows),
            "csv": str(base.with_suffix(".csv")),
        }
        if mark_sent:
            for d in group:
                record_delivery(
                    store,
                    d,
                    "batch",
                    str(base.with_suffix(".csv")),
                    True,
                    1,
                    actor,
                    {"provider": provider},
                    role=role,
                )
    return summary
