"""Where a document may go: only to a destination the registry lists for its provider (``legal_email``,
``abuse_email``, the contact point's and legal representative's e-mails, ``webhook_url``). Anything else
needs an explicit override: a reason, given by someone whose role is in ``[referral] override_roles``
(default legal, admin). A refusal and an override are both audited with the destination. Both delivery
channels (``mail``, ``webhook``) call ``clear_destination``, so every caller (CLI, web, API) gets the rule.

E-mail addresses compare with the domain's case ignored and surrounding spaces dropped; URLs compare on
scheme, host (lower case, IDNA, no ``www.``), port (default dropped) and path (``privacy.urls``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from vigil.audit import log as audit
from vigil.config import Config
from vigil.errors import UsageError
from vigil.privacy.urls import normalise_url
from vigil.referral.registry import Platform, load_platforms
from vigil.store import Store

DEFAULT_OVERRIDE_ROLES = ("legal", "admin")
MAX_REASON = 2000


class DestinationRefused(UsageError):
    """The destination is not the provider's in the registry and no valid override was given (403)."""

    status = 403


@dataclass(frozen=True, slots=True)
class DestinationOverride:
    """Send elsewhere than the registry says: who allows it, in what role, and why."""

    reason: str
    by: str
    role: str


def email_key(address: str) -> str:
    """An address as compared: no surrounding spaces, the domain in lower case (the local part as given)."""
    local, _, domain = address.strip().rpartition("@")
    return f"{local}@{domain.strip().rstrip('.').lower()}" if local else address.strip()


def url_key(url: str) -> str:
    """A URL as compared: scheme, host, port and path (query and fragment left out); '' if not http(s)."""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
        parts = urlsplit(normalise_url(url))
    except (UsageError, ValueError):
        return ""
    if scheme not in ("http", "https"):
        return ""
    return f"{scheme}://{parts.netloc}{parts.path}"


def key_for(channel: str, target: str) -> str:
    return url_key(target) if channel == "webhook" else email_key(target)


def registry_destinations(platform: Platform | None) -> dict[str, set[str]]:
    """The destinations the registry lists for a provider, by channel, as compared."""
    if platform is None:
        return {"email": set(), "webhook": set()}
    emails = [
        platform.legal_email,
        platform.abuse_email,
        platform.contact_point.get("email", ""),
        platform.legal_representative.get("email", ""),
    ]
    return {
        "email": {email_key(e) for e in emails if e.strip()},
        "webhook": {k for k in [url_key(platform.webhook_url)] if k},
    }


def is_listed(channel: str, target: str, destinations: dict[str, set[str]]) -> bool:
    key = key_for(channel, target)
    return bool(key) and key in destinations.get(channel, set())


def provider_platform(config: Config, provider: str) -> Platform | None:
    """The registry entry a document names (by key, else by name)."""
    platforms = load_platforms(config)
    return next((p for p in platforms if p.key == provider), None) or next(
        (p for p in platforms if p.name == provider and provider), None
    )


def override_roles(config: Config) -> tuple[str, ...]:
    roles = (config.extra.get("referral") or {}).get("override_roles")
    return tuple(str(r) for r in roles) if isinstance(roles, list) else DEFAULT_OVERRIDE_ROLES


def _why_not(config: Config, override: DestinationOverride | None, listed: str) -> str | None:
    roles = override_roles(config)
    if override is None:
        return (
            f"not a destination the registry lists for the provider ({listed}); sending elsewhere needs"
            f" an override with a reason by a role in {', '.join(roles) or 'none'}"
        )
    if override.role not in roles:
        return f"role {override.role!r} may not override the destination (roles that may: {', '.join(roles)})"
    if not override.reason.strip():
        return "an override of the destination needs a reason"
    if len(override.reason) > MAX_REASON:
        return f"the override's reason is longer than {MAX_REASON} characters"
    return None


def clear_destination(
    store: Store,
    config: Config,
    document: dict[str, Any],
    channel: str,
    target: str,
    actor: str,
    override: DestinationOverride | None = None,
) -> dict[str, Any]:
    """Raise ``DestinationRefused`` (audited) unless ``target`` is the provider's in the registry or the
    override is valid (audited); returns what the delivery record should carry about it."""
    provider = str(document.get("provider") or "")
    destinations = registry_destinations(provider_platform(config, provider) if provider else None)
    if is_listed(channel, target, destinations):
        return {}
    listed = ", ".join(sorted(destinations.get(channel, set()))) or f"no {channel} destination listed"
    info = {
        "document_id": document["id"],
        "reference": document["reference"],
        "provider": provider,
        "channel": channel,
        "destination": target,
    }
    if override is not None:
        info["override"] = {"by": override.by, "role": override.role, "reason": override.reason[:MAX_REASON]}
    why = _why_not(config, override, listed)
    if why is not None:
        audit.append(
            store, actor, "referral.destination_refused", "document", document["id"], {**info, "why": why}
        )
        raise DestinationRefused(f"document {document['reference']} to {target[:120]!r}: {why}")
    audit.append(store, actor, "referral.destination_override", "document", document["id"], info)
    return {"destination_override": info["override"]}
