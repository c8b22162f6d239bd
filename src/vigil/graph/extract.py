"""Turn items into graph facts (pure: everything the store knows arrives in an ``ExtractContext``).

What an item contributes (A = the posting account, V = its venue: the channel or group chat, with
``attrs.venue`` ``channel``/``group`` from ``meta.chat_type``, or the site's domain for a web page,
S = whoever spoke, A if there is one, else V):

- ``A posted V`` (counters ``originals``/``forwards``), ``A|V forwarded-from`` the source of a forward
  (a channel node when ``meta.forwarded_from_kind`` says so, e.g. a Telegram ``forwarded_from_id`` of
  ``channel<id>``, so that it is the channel's own node whether or not its export was scanned first),
  ``A replied-to`` the author of the item replied to (when the store has it);
- ``S links-to`` a domain, or a target (file locker, paste site URL) that is ``hosted-by`` its domain;
- ``S shares-media`` a media node (by SHA-256);
- attribution to an outlet (``meta.outlet``/``meta.outlets``, an ``outlets`` detector signal, or a
  registered channel/domain): a site's domain or a registered channel is ``part-of`` it, another channel
  that publishes its content (not a member forwarding it into a group) ``mirrors`` it;
- ``meta.mirror_of`` (an outlet name, channel key or URL): V ``mirrors`` it;
- ``meta.replaces`` (a domain): old ``succeeded-by`` V;
- ``meta.infra`` (dict or list: domain, ip, asn, asn_name, hoster): ``resolves-to`` and ``hosted-by``;
- ``meta.tracking_ids`` and ``meta.template``: V ``same-tracking-id`` / ``same-template`` a marker node.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vigil.core.model import Account, Item
from vigil.graph.facts import (
    TARGET_HOSTS,
    EdgeFact,
    NodeFact,
    channel_node,
    domain_node,
    host_node,
    host_of,
    outlet_node,
    target_node,
)
from vigil.graph.pseudonym import account_label

MAX_LINKS = 50
MAX_MEDIA = 50


@dataclass(slots=True)
class ExtractContext:
    """What the store knows that an item alone does not say."""

    node_key: Callable[[str], str]  # account key -> pseudonymised node key
    canonical: Callable[[str], str] = str  # an account/channel key, clear or stored -> its stored form
    channel_keys: set[str] = field(default_factory=set)  # account keys known to be channels
    registered: dict[str, set[str]] = field(default_factory=dict)  # venue node key -> outlet names
    reply_authors: dict[str, str] = field(default_factory=dict)  # replied item ref -> account key
    signal_outlets: dict[str, list[str]] = field(default_factory=dict)  # item id -> outlet names


@dataclass(slots=True)
class Facts:
    nodes: dict[str, NodeFact] = field(default_factory=dict)
    # node key -> [first seen, last seen, items]: the items that touched it and their time span
    touched: dict[str, list[Any]] = field(default_factory=dict)
    edges: list[EdgeFact] = field(default_factory=list)

    def node(self, fact: NodeFact, at: datetime | None = None, counts: bool = True) -> str:
        if "\x00" in fact.key or "\x00" in fact.label:
            # NUL cannot be stored in PostgreSQL text nor looked up through SQLite's json_each.
            fact = NodeFact(
                fact.key.replace("\x00", "\ufffd"),
                fact.kind,
                fact.label.replace("\x00", "\ufffd"),
                fact.attrs,
            )
        key = fact.key
        known = self.nodes.get(key)
        if known is None:
            self.nodes[key] = fact
        elif fact.attrs:
            known.attrs.update(fact.attrs)
        if counts:
            span = self.touched.get(key)
            if span is None:
                self.touched[key] = [at, at, 1]
            else:
                span[2] += 1
                if at is not None:
                    if span[0] is None or at < span[0]:
                        span[0] = at
                    if span[1] is None or at > span[1]:
                        span[1] = at
        return key

    def edge(
        self, src: str, dst: str, kind: str, item: Item | None, at: datetime | None, **counters: float
    ) -> EdgeFact | None:
        if src == dst:
            return None
        fact = EdgeFact(src, dst, kind, item.id if item else None, at, dict(counters))
        self.edges.append(fact)
        return fact


def platform_of(item: Item) -> str:
    owner = item.channel or item.account
    return owner.platform if owner is not None else item.source


def account_fact(acc: Account, ctx: ExtractContext) -> NodeFact:
    stored = ctx.canonical(acc.key)
    if acc.is_channel or stored in ctx.channel_keys:
        return channel_node(stored, acc.display_name or acc.handle, acc.platform)
    key = ctx.node_key(stored)
    return NodeFact(key, "account", account_label(key), {"platform": acc.platform})


def ref_fact(ref: str, platform: str, ctx: ExtractContext, kind: str | None = None) -> NodeFact:
    """A channel or account named by key (``platform:id``) or by a bare id on the item's platform.
    ``kind`` (``channel``/``account``), when the source says which, decides; else what the store knows."""
    key = ref if ":" in ref and not ref.startswith(("http://", "https://")) else f"{platform}:{ref}"
    key = ctx.canonical(key)
    if kind == "channel" or (kind != "account" and key in ctx.channel_keys):
        return channel_node(key, None, key.split(":", 1)[0])
    node = ctx.node_key(key)
    return NodeFact(node, "account", account_label(node), {"platform": key.split(":", 1)[0]})


def outlets_of(item: Item, ctx: ExtractContext) -> list[str]:
    names: list[str] = []
    meta = item.meta or {}
    for value in (meta.get("outlet"), meta.get("outlets"), ctx.signal_outlets.get(item.id)):
        if isinstance(value, str):
            names.append(value)
        elif isinstance(value, list):
            names.extend(v for v in value if isinstance(v, str))
    seen: dict[str, str] = {}
    for name in names:
        if name.strip():
            seen.setdefault(outlet_node(name).key, name)
    return list(seen.values())


def extract(items: Iterable[Item], ctx: ExtractContext) -> Facts:
    facts = Facts()
    for item in items:
        _item_facts(item, ctx, facts)
    return facts


def _item_facts(item: Item, ctx: ExtractContext, f: Facts) -> None:
    at = item.published
    meta = item.meta if isinstance(item.meta, dict) else {}
    platform = platform_of(item)
    actor = venue = None
    if item.account is not None:
        actor = f.node(account_fact(item.account, ctx), at)
    if item.channel is not None:
        fact = account_fact(item.channel, ctx)
        chat_type = meta.get("chat_type")
        if fact.kind == "channel" and isinstance(chat_type, str) and chat_type:
            # A Telegram channel or a group chat its members post in: both venues, told apart here.
            fact.attrs["venue"] = "group" if chat_type.endswith("group") else "channel"
        venue = f.node(fact, at)
    elif item.url and (host := host_of(item.url)):
        venue = f.node(host_node(host), at)
    if actor and actor.startswith("channel:") and venue is None:
        actor, venue = None, actor
    speaker = actor or venue
    fwd = item.forwarded_from.strip() if isinstance(item.forwarded_from, str) else ""
    outlets = outlets_of(item, ctx)
    if venue:
        folded = {o.casefold() for o in outlets}
        outlets.extend(o for o in sorted(ctx.registered.get(venue, ())) if o.casefold() not in folded)
    if actor and venue:
        posted = f.edge(actor, venue, "posted", item, at, originals=0 if fwd else 1, forwards=1 if fwd else 0)
        if posted is not None and outlets:
            posted.attrs["outlet_forwards" if fwd else "outlet_originals"] = {
                o.casefold(): 1 for o in outlets
            }
    if fwd:
        kind = meta.get("forwarded_from_kind")
        fact = ref_fact(fwd, platform, ctx, kind if isinstance(kind, str) else None)
        source = f.node(fact, at, counts=False)
        delay = _delay(meta.get("forwarded_date"), at)
        for who in {actor, venue} - {None}:
            assert who is not None
            counters = {"delay_s": delay, "delay_n": 1.0} if delay is not None else {}
            edge = f.edge(who, source, "forwarded-from", item, at, **counters)
            if edge is not None and outlets:
                edge.attrs["outlets"] = {o.casefold(): 1 for o in outlets}
    if item.reply_to and speaker and (author := ctx.reply_authors.get(item.reply_to)):
        f.edge(speaker, f.node(ref_fact(author, platform, ctx), at, counts=False), "replied-to", item, at)
    if speaker:
        _links(item, speaker, at, f)
        for m in item.media[:MAX_MEDIA]:
            node = f.node(NodeFact(f"media:{m.sha256}", "media", m.sha256[:16], {"kind": m.kind}), at)
            f.edge(speaker, node, "shares-media", item, at)
    if venue:
        own = {o.casefold() for o in ctx.registered.get(venue, ())} if outlets else set()
        for name in outlets:
            outlet = f.node(outlet_node(name), at)
            if venue.startswith("domain:") or name.casefold() in own:
                f.edge(venue, outlet, "part-of", item, at)
            elif not (actor and fwd):
                # The venue publishes the outlet's content itself (a channel post, or an account's original
                # in it). A member forwarding a release into a group does not make the group a mirror: the
                # forward is on the member's forwarded-from edge.
                f.edge(venue, outlet, "mirrors", item, at)
        _site_meta(item, meta, venue, at, f, ctx)
    _infra(item, meta.get("infra"), at, f)


def _links(item: Item, speaker: str, at: datetime | None, f: Facts) -> None:
    for url in item.links[:MAX_LINKS]:
        if not isinstance(url, str) or not (host := host_of(url)):
            continue
        domain = f.node(host_node(host), at)
        if host in TARGET_HOSTS:
            target = f.node(target_node(url, host), at)
            f.edge(speaker, target, "links-to", item, at)
            f.edge(target, domain, "hosted-by", item, at)
        else:
            f.edge(speaker, domain, "links-to", item, at)


def _site_meta(
    item: Item, meta: dict[str, Any], venue: str, at: datetime | None, f: Facts, ctx: ExtractContext
) -> None:
    mirror_of = meta.get("mirror_of")
    if isinstance(mirror_of, str) and mirror_of.strip():
        if mirror_of.startswith(("http://", "https://")) or ("." in mirror_of and ":" not in mirror_of):
            target = domain_node(mirror_of)
        elif ":" in mirror_of:
            key = ctx.canonical(mirror_of.strip())
            target = channel_node(key, None, key.split(":", 1)[0])
        else:
            target = outlet_node(mirror_of)
        if target is not None:
            f.edge(venue, f.node(target, at, counts=False), "mirrors", item, at)
    old = meta.get("replaces")
    if isinstance(old, str) and venue.startswith("domain:") and (node := domain_node(old)):
        f.edge(f.node(node, at, counts=False), venue, "succeeded-by", item, at)
    ids = meta.get("tracking_ids")
    for tid in ids if isinstance(ids, list) else []:
        if isinstance(tid, str) and tid.strip():
            tid = tid.strip()[:200]
            f.edge(
                venue, f.node(NodeFact(f"tracking:{tid}", "tracking", tid), at), "same-tracking-id", item, at
            )
    template = meta.get("template")
    if isinstance(template, str) and template.strip():
        t = template.strip()[:200]
        f.edge(venue, f.node(NodeFact(f"template:{t}", "template", t[:32]), at), "same-template", item, at)


def _infra(item: Item, infra: Any, at: datetime | None, f: Facts) -> None:
    records = infra if isinstance(infra, list) else [infra] if isinstance(infra, dict) else []
    for rec in records[:20]:
        if not isinstance(rec, dict):
            continue
        domain = domain_node(str(rec["domain"])) if rec.get("domain") else None
        ip = host_node(str(rec["ip"]).strip()) if rec.get("ip") else None
        if ip is not None and ip.kind != "ip":
            ip = None
        asn = rec.get("asn")
        asn_node = None
        if isinstance(asn, int | str) and str(asn).upper().removeprefix("AS").isdigit():
            number = str(asn).upper().removeprefix("AS")
            label = f"AS{number}" + (f" {rec['asn_name']}"[:100] if rec.get("asn_name") else "")
            asn_node = f.node(NodeFact(f"asn:{number}", "asn", label), at)
        hoster = rec.get("hoster")
        hoster_node = (
            f.node(
                NodeFact(f"hoster:{str(hoster).strip().casefold()[:200]}", "hoster", str(hoster)[:200]), at
            )
            if isinstance(hoster, str) and hoster.strip()
            else None
        )
        ip_key = f.node(ip, at) if ip else None
        if domain and ip_key:
            f.edge(f.node(domain, at), ip_key, "resolves-to", item, at)
        if ip_key and asn_node:
            f.edge(ip_key, asn_node, "hosted-by", item, at)
        elif ip_key and hoster_node:
            f.edge(ip_key, hoster_node, "hosted-by", item, at)
        if asn_node and hoster_node:
            f.edge(asn_node, hoster_node, "hosted-by", item, at)


def _delay(original: Any, at: datetime | None) -> float | None:
    if not isinstance(original, str) or at is None:
        return None
    try:
        when = datetime.fromisoformat(original)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=at.tzinfo)
    try:
        seconds = (at - when).total_seconds()
    except TypeError:
        return None
    return seconds if seconds >= 0 else None
