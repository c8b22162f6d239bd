"""Fingerprints in the store, known outlets, and the check that links a new domain to a known outlet
as a probable mirror, with its evidence, and opens a case on the page that shows it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from vigil.core.model import Case, Item, utcnow
from vigil.crawl.crawler import Crawler, SiteSeen
from vigil.ingest.pipeline import Pipeline
from vigil.mirrors.compare import Match, compare
from vigil.mirrors.fingerprint import Fingerprint, build
from vigil.mirrors.tables import mirror_links, site_fingerprints
from vigil.store import Store
from vigil.store.schema import cases


@dataclass(slots=True)
class MirrorLink:
    domain: str
    outlet: str
    outlet_domain: str
    score: float
    evidence: list[dict[str, Any]]
    item_id: str | None = None
    case_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fingerprint_of(seen: SiteSeen) -> Fingerprint:
    return build(
        seen.site,
        seen.home,
        (p.html for p in seen.pages),
        seen.page_count,
        seen.favicon_sha256,
        seen.tls,
        seen.media,
        seen.outlinks,
    )


def save_fingerprint(store: Store, fp: Fingerprint, outlet: str | None = None) -> None:
    """Store a site's fingerprint; ``outlet`` marks it as a known outlet's (kept when a later crawl omits
    it)."""
    now = utcnow()
    with store.write() as conn:
        old = conn.execute(
            select(site_fingerprints.c.outlet).where(site_fingerprints.c.domain == fp.site)
        ).first()
        row = {"url": fp.home, "fingerprint": fp.to_dict(), "pages": fp.pages, "updated_at": now}
        if old is None:
            conn.execute(site_fingerprints.insert().values(domain=fp.site, outlet=outlet, **row))
        else:
            conn.execute(
                site_fingerprints.update()
                .where(site_fingerprints.c.domain == fp.site)
                .values(outlet=outlet or old[0], **row)
            )


def known_outlets(store: Store) -> list[tuple[str, Fingerprint]]:
    with store.read() as conn:
        rows = conn.execute(
            select(site_fingerprints.c.outlet, site_fingerprints.c.fingerprint).where(
                site_fingerprints.c.outlet.is_not(None)
            )
        ).all()
    return [(outlet, Fingerprint.from_dict(fp)) for outlet, fp in rows]


def match_outlets(store: Store, fp: Fingerprint) -> list[tuple[str, Fingerprint, Match]]:
    """Known outlets (other domains) this fingerprint is a probable mirror of, best first."""
    found = []
    for outlet, known in known_outlets(store):
        if known.site == fp.site:
            continue
        match = compare(fp, known)
        if match.probable_mirror:
            found.append((outlet, known, match))
    return sorted(found, key=lambda t: -t[2].score)


def link_mirror(
    store: Store,
    pipeline: Pipeline,
    fp: Fingerprint,
    page: Item,
    outlet: str,
    known: Fingerprint,
    match: Match,
) -> MirrorLink | None:
    """Record the link and open a case on ``page`` (stored first if need be). None if already linked."""
    evidence = [e.to_dict() for e in match.evidence]
    with store.read() as conn:
        exists = conn.execute(
            select(mirror_links.c.id).where(
                mirror_links.c.domain == fp.site, mirror_links.c.outlet_domain == known.site
            )
        ).first()
    if exists:
        return None
    pipeline.process([page])
    title = f"probable mirror of {outlet} ({known.site}) on {fp.site}"
    opened = store.open_cases(
        [
            Case(
                id=None,
                item_id=page.id,
                score=match.score,
                title=title,
                meta={
                    "detectors": ["mirrors"],
                    "reasons": [e.detail for e in match.evidence],
                    "mirror_of": {"outlet": outlet, "domain": known.site},
                    "evidence": evidence,
                },
            )
        ],
        actor="mirrors",
    )
    case_id = opened[0] if opened else _case_of(store, page.id)
    link = MirrorLink(fp.site, outlet, known.site, match.score, evidence, page.id, case_id)
    with store.write() as conn:
        conn.execute(mirror_links.insert().values(**link.to_dict(), created_at=utcnow()))
    return link


def list_links(store: Store) -> list[MirrorLink]:
    with store.read() as conn:
        rows = conn.execute(select(mirror_links).order_by(mirror_links.c.id)).mappings().all()
    return [
        MirrorLink(
            r["domain"],
            r["outlet"],
            r["outlet_domain"],
            r["score"],
            r["evidence"],
            r["item_id"],
            r["case_id"],
        )
        for r in rows
    ]


def check_crawl(
    store: Store, pipeline: Pipeline, crawler: Crawler, outlet: str | None = None
) -> list[MirrorLink]:
    """After a crawl: store each site's fingerprint (as ``outlet``'s if given) and, for unknown sites,
    link probable mirrors of known outlets."""
    links: list[MirrorLink] = []
    for seen in crawler.sites.values():
        if not seen.pages:
            continue
        fp = fingerprint_of(seen)
        save_fingerprint(store, fp, outlet)
        if outlet is not None:
            continue
        for name, known, match in match_outlets(store, fp):
            page = crawler.items.get(seen.pages[0].item_id)
            if page is None:
                continue
            found = link_mirror(store, pipeline, fp, page, name, known, match)
            if found:
                links.append(found)
    return links


def _case_of(store: Store, item_id: str) -> int | None:
    with store.read() as conn:
        return conn.execute(select(cases.c.id).where(cases.c.item_id == item_id)).scalar()
