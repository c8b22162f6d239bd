"""What list and history views show: pseudonyms for accounts, identifiers inside text masked (same
length, same offsets). The API, the UI and the CLI build their rows from these functions rather than from
what is stored: ``list_row`` for items, ``audit_row`` for audit entries and ``history_row`` for a case's
history lines, whose free text (reasons, notes, justifications) is as staff typed it.

Masking is at read time only: what is stored (and hash-chained, for the audit log) is never rewritten, so
``vigil audit verify`` holds. The clear text is shown through ``vigil.privacy.reveal_record`` (a reason,
a right to reveal, on the record)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from vigil.audit.log import AuditEntry
from vigil.core.model import Item
from vigil.privacy.mask import mask_identifiers, mask_value

SNIPPET = 280


def list_row(item: Item, snippet: int = SNIPPET) -> dict[str, Any]:
    return {
        "id": item.id,
        "source": item.source,
        "url": item.url,
        "published": item.published.isoformat() if item.published else None,
        "lang": item.lang,
        "account": item.account.key if item.account else None,
        "channel": item.channel.key if item.channel else None,
        "text": mask_identifiers(item.text[:snippet]),
        "media": [m.sha256 for m in item.media],
    }


def audit_row(entry: AuditEntry) -> AuditEntry:
    """The entry as audit views show it: every string in its details and its target id masked. The hash
    is the stored one (it covers the clear entry: verify from the store, not from a masked export)."""
    target = mask_identifiers(entry.target_id) if entry.target_id is not None else None
    return replace(entry, target_id=target, details=mask_value(entry.details or {}))


def is_masked(entry: AuditEntry) -> bool:
    """Whether the audit views show this entry differently from what is stored (a reveal would help)."""
    shown = audit_row(entry)
    return (shown.target_id, shown.details) != (entry.target_id, entry.details or {})


def history_row(event: dict[str, Any]) -> dict[str, Any]:
    """One line of a case's history (``reason`` and ``meta`` as typed) as history views show it;
    ``masked`` says whether anything was (a reveal would show more)."""
    out = dict(event)
    if isinstance(out.get("reason"), str):
        out["reason"] = mask_identifiers(out["reason"])
    if "meta" in out:
        out["meta"] = mask_value(out["meta"] or {})
    out["masked"] = (out.get("reason"), out.get("meta")) != (event.get("reason"), event.get("meta"))
    return out
