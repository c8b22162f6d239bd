"""Capture evidence for every confirmed case that has a URL and no capture yet. A URL that cannot be fetched
is reported with its case and the reason; the others go on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from vigil.config import Config
from vigil.evidence.capture import capture_url
from vigil.evidence.tables import evidence_captures
from vigil.net.hops import FetchError
from vigil.store import Store


def capture_confirmed(
    store: Store,
    config: Config,
    actor: str = "system",
    states: tuple[str, ...] = ("confirmed",),
    progress: Callable[[int], None] | None = None,
    render: bool | None = None,
) -> dict[str, Any]:
    done: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    with store.read() as conn:
        captured = set(conn.execute(select(evidence_captures.c.case_id).distinct()).scalars())
    for state in states:
        offset = 0
        while True:
            cases = store.list_cases(state=state, limit=500, offset=offset)
            if not cases:
                break
            offset += len(cases)
            for case in cases:
                if case.id is None or case.id in captured:
                    continue
                item = store.get_item(case.item_id)
                if item is None or not item.url:
                    continue
                try:
                    cap = capture_url(store, config, item.url, case_id=case.id, actor=actor, render=render)
                except FetchError as exc:
                    failed.append({"case_id": case.id, "url": item.url, "reason": exc.reason})
                else:
                    done.append({"case_id": case.id, "capture_id": cap.id, "url": item.url})
                if progress:
                    progress(1)
    return {"captured": done, "failed": failed}
