"""What the forms that draft and send a case's documents start from: the document the case's decision calls
for, the providers of the registry (with what each still lacks), the case's URL(s), the reason given for
the decision, and for each drafted document the addressee's e-mail and the provider's webhook. The UI and
the CLI read these; drafting and sending themselves stay in ``documents``, ``mail`` and ``webhook``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from vigil.audit.history import history
from vigil.config import Config
from vigil.core.model import CaseState
from vigil.errors import ConfigError, UsageError
from vigil.referral.annex_i import GROUNDS, MAX_WITHHOLD_WEEKS
from vigil.referral.documents import KINDS, case_urls, documents_for_case
from vigil.referral.registry import Platform, load_platforms, platform_for
from vigil.referral.review import DOCUMENT_FOR
from vigil.referral.strings import available, load_strings
from vigil.store import Store
from vigil.workflow.states import APPROVERS

DRAFTABLE = (CaseState.DECISION, CaseState.PROPOSED)
SENDABLE = ("draft", "sent")  # a sent document may go out again in the same round (a further copy)


def kind_for(decision: str) -> str:
    """The document a decision calls for ('' when it calls for none)."""
    return next((kind for kind, needed in DOCUMENT_FOR.items() if needed == decision), "")


def addressee_email(body: dict[str, Any]) -> str:
    """Where a document goes by e-mail unless told otherwise: its addressee."""
    if "section_a" in body:
        return str(body["section_a"]["addressee"].get("email") or "")
    return str((body.get("to") or {}).get("email") or "")


def platform_by_key(config: Config, key: str) -> Platform:
    platforms = {p.key: p for p in load_platforms(config)}
    if key not in platforms:
        raise UsageError(f"no provider {key!r} in the registry (see `vigil referral providers`)")
    return platforms[key]


def _decision_reason(store: Store, case_id: int) -> str:
    reasons = [e["reason"] for e in history(store, case_id) if e["to_state"] == CaseState.DECISION]
    return str(reasons[-1] or "") if reasons else ""


def _provider_for(urls: list[str], platforms: list[Platform]) -> str:
    for url in urls:
        found = platform_for((urlsplit(url).hostname or "").lower(), platforms)
        if found is not None:
            return found.key
    return ""


def form_defaults(store: Store, config: Config, case_id: int) -> dict[str, Any]:
    """Everything the draft and send forms of a case offer, as plain values."""
    case = store.get_case(case_id)
    if case is None:
        raise UsageError(f"case {case_id} does not exist")
    problem = ""
    try:
        platforms = load_platforms(config)
    except ConfigError as exc:
        platforms, problem = [], str(exc)
    urls = case_urls(store, case_id)
    strings = load_strings("en", config)
    webhooks = {p.key: p.webhook_url for p in platforms}
    sending = {
        int(d["id"]): {"email": addressee_email(d["body"]), "webhook": webhooks.get(str(d["provider"]), "")}
        for d in documents_for_case(store, case_id)
        if d["status"] in SENDABLE
    }
    return {
        "state": str(case.state),
        "may_draft": case.state in DRAFTABLE,
        "kinds": {kind: str(strings[kind]["title"]) for kind in KINDS},
        "kind": kind_for(str(case.meta.get("decision") or "")),
        "providers": [
            {"key": p.key, "name": p.name, "to_fill": p.to_fill}
            for p in sorted(platforms, key=lambda p: p.name.lower())
        ],
        "provider": _provider_for(urls, platforms),
        "registry_error": problem,
        "urls": urls,
        "reasons": _decision_reason(store, case_id),
        "grounds": {g: str(strings["removal_order"][f"ground_{g}"]) for g in GROUNDS},
        "max_withhold_weeks": MAX_WITHHOLD_WEEKS,
        "langs": available(config),
        "approvers": sorted(APPROVERS),
        "sending": sending,
    }
