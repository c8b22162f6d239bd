"""What list views show of an item: pseudonyms for accounts, identifiers in the text masked (same length,
same offsets). The API and the UI build their list rows from ``list_row`` rather than from the item."""

from __future__ import annotations

from typing import Any

from vigil.core.model import Item
from vigil.privacy.mask import mask_identifiers

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
