"""Synthetic networks with known ground truth, for tests and the benchmark. Text is neutral placeholder.

``outlet_network`` builds the acceptance scenario: an outlet whose administrators post releases in its
own channel and on its site, mirror channels that forward from them, spreaders that forward releases of
several outlets into discussion groups, bystanders who chat, reply and link there, and domain
replacements after takedowns. ``stream_network`` yields a much larger network of the same shape in
batches, for ``bench/graph.py``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from vigil.core.model import Account, Item, Media, make_item_id, sha256_hex

START = datetime(2024, 1, 1, tzinfo=UTC)
PLATFORM = "telegram"


@dataclass(slots=True)
class Truth:
    outlet: str
    main_channel: str
    admins: list[str]
    mirrors: list[str]
    spreaders: list[str]
    bystanders: list[str]
    domains: list[str]
    other_outlets: dict[str, list[str]] = field(default_factory=dict)  # name -> admin keys


def _acc(handle: str, channel: bool = False) -> Account:
    return Account(PLATFORM, native_id=handle, handle=handle, display_name=handle, is_channel=channel)


class _Maker:
    def __init__(self) -> None:
        self.n = 0

    def item(
        self,
        when: datetime,
        account: Account | None = None,
        channel: Account | None = None,
        url: str | None = None,
        **kw: object,
    ) -> Item:
        self.n += 1
        native = f"m{self.n}"
        return Item(
            id=make_item_id("synthetic", native),
            source="synthetic",
            text=f"placeholder message {self.n}",
            native_id=native,
            url=url,
            account=account,
            channel=channel,
            published=when,
            **kw,  # type: ignore[arg-type]
        )


def _media(tag: str) -> Media:
    return Media(sha256_hex(tag.encode()), "image/png", 100, kind="image")


def outlet_network(
    outlet: str = "Outlet Alpha",
    n_admins: int = 3,
    n_mirrors: int = 40,
    n_spreaders: int = 500,
    n_bystanders: int = 5000,
    n_releases: int = 30,
    n_groups: int = 40,
    seed: int = 7,
) -> tuple[list[Item], Truth]:
    rng = random.Random(seed)
    mk = _Maker()
    slug = "".join(c for c in outlet.casefold() if c.isalnum())[:12] or "outlet"
    main = _acc(f"{slug}_main", channel=True)
    admins = [_acc(f"{slug}_admin{i}") for i in range(n_admins)]
    mirrors = [_acc(f"{slug}_mirror{i}", channel=True) for i in range(n_mirrors)]
    spreaders = [_acc(f"spreader{i}") for i in range(n_spreaders)]
    bystanders = [_acc(f"bystander{i}") for i in range(n_bystanders)]
    groups = [_acc(f"group{i}", channel=True) for i in range(n_groups)]
    domains = [f"{slug}-one.example", f"{slug}-two.example", f"{slug}-three.example"]
    others = {
        "Outlet Beta": [_acc("beta_admin0"), _acc("beta_admin1")],
        "Outlet Gamma": [_acc("gamma_admin0")],
    }
    other_mirrors = {
        name: [_acc(f"{name.split()[1].lower()}_mirror{i}", True) for i in range(5)] for name in others
    }
    out: list[Item] = []
    forwardable: list[tuple[str, Account, datetime]] = []  # (outlet, channel to forward from, original time)
    for r in range(n_releases):
        when = START + timedelta(days=r, hours=rng.randint(0, 6))
        admin = admins[r % n_admins]
        media = [_media(f"{slug}-release-{r}")]
        out.append(mk.item(when, admin, main, media=media, meta={"outlet": outlet}))
        domain = domains[min(r * len(domains) // n_releases, len(domains) - 1)]
        out.append(
            mk.item(when + timedelta(minutes=5), url=f"https://{domain}/r/{r}", meta={"outlet": outlet})
        )
        for k, mirror in enumerate(mirrors):
            if rng.random() < 0.8:
                at = when + timedelta(minutes=10 + k)
                fwd = main.key if rng.random() < 0.2 else admin.key
                out.append(
                    mk.item(at, None, mirror, forwarded_from=fwd, media=media, meta={"outlet": outlet})
                )
                forwardable.append((outlet, mirror, when))
        for name, their_admins in others.items():
            t2 = when + timedelta(hours=2)
            who = their_admins[r % len(their_admins)]
            for m in other_mirrors[name]:
                out.append(mk.item(t2, None, m, forwarded_from=who.key, meta={"outlet": name}))
                forwardable.append((name, m, t2))
    for s in spreaders:
        for _ in range(rng.randint(3, 6)):
            name, source, original = rng.choice(forwardable)
            at = original + timedelta(minutes=rng.randint(20, 600))
            group = rng.choice(groups)
            out.append(
                mk.item(
                    at,
                    s,
                    group,
                    forwarded_from=source.key,
                    meta={"outlet": name, "forwarded_date": original.isoformat()},
                )
            )
    chatter: list[Item] = []
    popular = bystanders[0]
    for b in bystanders:
        at = START + timedelta(minutes=rng.randint(0, n_releases * 24 * 60))
        reply_to = None
        if chatter and rng.random() < 0.3:
            reply_to = (chatter[0] if rng.random() < 0.5 else rng.choice(chatter)).native_id
        links = (
            [f"https://news{rng.randint(0, 30)}.example/story/{rng.randint(0, 999)}"]
            if rng.random() < 0.3
            else []
        )
        item = mk.item(at, b, rng.choice(groups), links=links, reply_to=reply_to)
        if b is popular or not chatter:
            chatter.insert(0, item)
        else:
            chatter.append(item)
    out.extend(chatter)
    out.sort(key=lambda i: (i.published or START, i.id))
    truth = Truth(
        outlet=outlet,
        main_channel=main.key,
        admins=[a.key for a in admins],
        mirrors=[m.key for m in mirrors],
        spreaders=[s.key for s in spreaders],
        bystanders=[b.key for b in bystanders],
        domains=domains,
        other_outlets={name: [a.key for a in accs] for name, accs in others.items()},
    )
    return out, truth


def stream_network(
    n_items: int = 1_000_000,
    n_accounts: int = 100_000,
    n_outlets: int = 50,
    batch: int = 5000,
    seed: int = 11,
) -> Iterator[list[Item]]:
    """A big network of the same shape, yielded in time order in batches (never all in memory)."""
    rng = random.Random(seed)
    mk = _Maker()
    n_groups = max(10, n_accounts // 500)
    accounts = [_acc(f"a{i}") for i in range(n_accounts)]
    groups = [_acc(f"g{i}", True) for i in range(n_groups)]
    outlets = []
    for o in range(n_outlets):
        admins = accounts[o * 3 : o * 3 + 3]
        mirrors = [_acc(f"o{o}m{i}", True) for i in range(20)]
        outlets.append(
            (
                f"Outlet {o}",
                _acc(f"o{o}main", True),
                admins,
                mirrors,
                [f"o{o}-d{k}.example" for k in range(3)],
            )
        )
    spreaders = accounts[n_outlets * 3 : n_outlets * 3 + n_accounts // 20]
    recent: list[tuple[str, Account, datetime]] = []
    when = START
    made = 0
    out: list[Item] = []
    while made < n_items:
        when += timedelta(seconds=rng.randint(1, 60))
        roll = rng.random()
        if roll < 0.02:  # a release and its mirrors
            name, main, admins, mirrors, domains = rng.choice(outlets)
            phase = min(2, int((when - START).days / 20))
            media = [_media(f"{name}-{made}")]
            admin = rng.choice(admins)
            out.append(mk.item(when, admin, main, media=media, meta={"outlet": name}))
            out.append(mk.item(when, url=f"https://{domains[phase]}/r/{made}", meta={"outlet": name}))
            for m in rng.sample(mirrors, 10):
                out.append(
                    mk.item(when, None, m, forwarded_from=admin.key, media=media, meta={"outlet": name})
                )
                recent.append((name, m, when))
            recent = recent[-2000:]
        elif roll < 0.25 and recent:  # a spreader forwards
            name, source, original = rng.choice(recent)
            meta = {"outlet": name, "forwarded_date": original.isoformat()}
            out.append(
                mk.item(when, rng.choice(spreaders), rng.choice(groups), forwarded_from=source.key, meta=meta)
            )
        else:  # chatter
            links = [f"https://site{rng.randint(0, 5000)}.example/p"] if rng.random() < 0.2 else []
            media = [_media(f"pic{rng.randint(0, 50_000)}")] if rng.random() < 0.05 else []
            out.append(mk.item(when, rng.choice(accounts), rng.choice(groups), links=links, media=media))
        made = mk.n
        if len(out) >= batch:
            yield out
            out = []
    if out:
        yield out
