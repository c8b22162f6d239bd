"""Every watched source's health, for ``vigil watch list --health``, the API and the UI's page: the
schedule, the back-off in force, who holds the lease, and the last runs (for the items-per-run chart)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from vigil.store import Store
from vigil.store.clock import database_now
from vigil.watch.history import recent_runs
from vigil.watch.registry import backoff_s, get_source, list_sources

ORDER = {"failing": 0, "never run": 1, "ok": 2, "disabled": 3}


def source_health(
    store: Store, runs: int = 0, now: datetime | None = None, name: str | None = None
) -> list[dict[str, Any]]:
    """Failing sources first (only the one called ``name`` if given). ``backoff_s`` is the delay in force
    after the failures (None when none); ``running`` says a live lease is held; with ``runs`` > 0, each
    source's last runs, oldest first."""
    now = now or database_now(store)  # the clock the leases are taken by
    if name is None:
        sources = list_sources(store)
    else:
        one = get_source(store, name)
        sources = [one] if one else []
    history = recent_runs(store, runs, [s.id for s in sources] if name else None) if runs > 0 else {}
    found = []
    for source in sources:
        row = source.to_dict()
        failures = source.consecutive_failures
        row["backoff_s"] = backoff_s(source.interval_s, failures) if failures else None
        row["running"] = bool(source.lease_owner and source.lease_until and source.lease_until > now)
        if runs > 0:
            row["runs"] = [_run_dict(r) for r in history.get(source.id, [])]
            last = row["runs"][-1] if row["runs"] else None
            row["last_new_items"] = last["new_items"] if last and last["ok"] else None
        found.append(row)
    return sorted(found, key=lambda s: (ORDER[s["health"]], s["name"]))


def _run_dict(run: dict[str, Any]) -> dict[str, Any]:
    return {**run, "started_at": run["started_at"].isoformat(), "finished_at": run["finished_at"].isoformat()}
