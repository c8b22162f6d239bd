"""The provider's answers to a removal order, checked for the fields their forms name before they are kept.

- **Annex II** (Art. 3(6), the removal or disabling is confirmed). A: the order's reference, the
  provider's own file reference (optional), when the order was received; B: the measure taken (content
  removed, or access disabled in all Member States) and when; C: the provider or its legal representative,
  its Member State, the person who signs (optional).
- **Annex III** (the order cannot be executed). A: as Annex II; B: the reason(s) ticked, and an
  explanation: ``force_majeure`` (force majeure or de facto impossibility not attributable to the
  provider, including objectively justifiable technical or operational reasons: Art. 3(7)), or
  ``manifest_error`` / ``insufficient_information`` (Art. 3(8)); C: for Art. 3(8), the errors and the
  clarification requested; D: the provider, as Annex II section C.
- **Obstacle ended**: the one-hour clock restarts when an Art. 3(7) obstacle ends, or when the provider
  receives the clarification an Art. 3(8) reply asked for (then ``clarification`` says what was sent).

Each check raises ``UsageError`` naming the field; what passes is returned normalised (UTC ISO times,
reasons as a list with the Article they fall under).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from vigil.errors import UsageError
from vigil.privacy.inputs import unstorable
from vigil.referral.annex_i import member_states

ART_3_7 = ("force_majeure",)
ART_3_8 = ("manifest_error", "insufficient_information")
ANNEX_III_REASONS = ART_3_7 + ART_3_8
MEASURES = ("removed", "disabled")
MAX_TEXT = 4000
MAX_REPLY_BYTES = 32_000
CLOCK_SKEW = timedelta(minutes=10)

_COMMON = {"reference", "received_at", "provider", "member_state", "provider_reference", "authorised_person"}
ANNEX_II_FIELDS = _COMMON | {"measure", "measure_at"}
ANNEX_III_FIELDS = _COMMON | {"reasons", "reason", "explanation", "clarification_requested"}


def _text(data: dict[str, Any], key: str, form: str, required: bool = True) -> str:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise UsageError(f"{form}: {key!r} is required")
        return ""
    if not isinstance(value, str):
        raise UsageError(f"{form}: {key!r} must be text")
    if len(value) > MAX_TEXT:
        raise UsageError(f"{form}: {key!r} is longer than {MAX_TEXT} characters")
    return value.strip()


def _time(data: dict[str, Any], key: str, form: str, latest: datetime) -> str:
    raw = _text(data, key, form)
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{form}: {key!r} is not an ISO date and time: {raw[:40]!r}") from None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if when > latest + CLOCK_SKEW:
        raise UsageError(f"{form}: {key!r} ({when.isoformat()}) is after the reply was recorded")
    return when.astimezone(UTC).isoformat()


def _common(
    data: dict[str, Any], form: str, fields: set[str], document: dict[str, Any], at: datetime
) -> dict[str, Any]:
    unknown = sorted(set(data) - fields)
    if unknown:
        raise UsageError(f"{form}: unknown field(s) {unknown}; the form has {sorted(fields)}")
    reference = _text(data, "reference", form)
    if reference != document["reference"]:
        raise UsageError(
            f"{form}: the reference {reference[:80]!r} is not that of document {document['id']}"
            f" ({document['reference']})"
        )
    state = _text(data, "member_state", form).upper()
    if state not in member_states():
        raise UsageError(f"{form}: 'member_state' must be an EU Member State code (e.g. IE), not {state!r}")
    return {
        "reference": reference,
        "received_at": _time(data, "received_at", form, at),
        "provider": _text(data, "provider", form),
        "member_state": state,
        "provider_reference": _text(data, "provider_reference", form, required=False),
        "authorised_person": _text(data, "authorised_person", form, required=False),
    }


def _check_storable(data: dict[str, Any]) -> None:
    """``UsageError`` naming the field whose text (or a key within it) PostgreSQL could not store."""
    for field, value in data.items():
        stack: list[Any] = [field, value]
        while stack:
            item = stack.pop()
            if isinstance(item, str) and unstorable(item):
                why = "NUL characters and unpaired surrogates cannot be stored"
                raise UsageError(f"{str(field)[:40]!r}: {why}")
            if isinstance(item, dict):
                stack.extend(str(k) for k in item)
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)


def check_size(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise UsageError("a reply's data must be a JSON object")
    _check_storable(data)
    try:
        size = len(json.dumps(data, ensure_ascii=False, default=str).encode())
    except (TypeError, ValueError) as exc:
        raise UsageError(f"a reply's data cannot be stored as JSON: {exc}") from None
    if size > MAX_REPLY_BYTES:
        raise UsageError(f"a reply's data is {size} bytes; at most {MAX_REPLY_BYTES}")
    return data


def annex_ii(data: dict[str, Any], document: dict[str, Any], at: datetime) -> dict[str, Any]:
    form = "Annex II"
    out = _common(data, form, ANNEX_II_FIELDS, document, at)
    measure = _text(data, "measure", form)
    if measure not in MEASURES:
        raise UsageError(f"{form}: 'measure' must be 'removed' or 'disabled' (in all Member States)")
    return {**out, "measure": measure, "measure_at": _time(data, "measure_at", form, at)}


def annex_iii(data: dict[str, Any], document: dict[str, Any], at: datetime) -> dict[str, Any]:
    form = "Annex III"
    out = _common(data, form, ANNEX_III_FIELDS, document, at)
    ticked = data.get("reasons", [data["reason"]] if "reason" in data else [])
    if not isinstance(ticked, list) or not ticked or not all(r in ANNEX_III_REASONS for r in ticked):
        raise UsageError(f"{form}: 'reasons' must tick one or more of {', '.join(ANNEX_III_REASONS)}")
    reasons = [r for r in ANNEX_III_REASONS if r in ticked]
    articles = [a for a, group in (("3(7)", ART_3_7), ("3(8)", ART_3_8)) if set(group) & set(reasons)]
    out.update(
        reasons=reasons,
        articles=articles,
        explanation=_text(data, "explanation", form),
        clarification_requested=_text(data, "clarification_requested", form, required="3(8)" in articles),
    )
    return out


def obstacle_ended(data: dict[str, Any], open_reply: dict[str, Any]) -> dict[str, Any]:
    """``open_reply``: the Annex III reply whose obstacle ends."""
    articles = (open_reply.get("data") or {}).get("articles") or []
    clarification = _text(data, "clarification", "obstacle ended", required="3(8)" in articles)
    note = _text(data, "note", "obstacle ended", required=False)
    unknown = sorted(set(data) - {"clarification", "note"})
    if unknown:
        raise UsageError(f"obstacle ended: unknown field(s) {unknown}; it has 'clarification' and 'note'")
    return {"annex_iii_reply": open_reply["id"], "clarification": clarification, "note": note}
