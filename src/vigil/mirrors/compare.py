"""How close one site's fingerprint is to another's, and why: each kind of evidence has a weight and
they combine as independent signals (1 - Π(1 - w)). A probable mirror needs the score and at least two
different kinds of evidence, so that a shared off-the-shelf theme alone never links two sites."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from vigil.mirrors.fingerprint import Fingerprint, simhash_distance, template_similarity

THRESHOLD = 0.6
MIN_KINDS = 2


@dataclass(slots=True)
class Evidence:
    kind: str
    detail: str
    weight: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Match:
    score: float
    evidence: list[Evidence]

    @property
    def probable_mirror(self) -> bool:
        return self.score >= THRESHOLD and len({e.kind for e in self.evidence}) >= MIN_KINDS


def compare(new: Fingerprint, known: Fingerprint) -> Match:
    evidence: list[Evidence] = []
    similarity = template_similarity(new, known)
    if similarity >= 0.7:
        weight = 0.5 if similarity >= 0.9 else 0.3
        evidence.append(
            Evidence(
                "template",
                f"page template similarity {similarity:.2f} (SimHash distance "
                f"{simhash_distance(new, known)}/64)",
                weight,
            )
        )
    shared_trackers = sorted(set(new.trackers) & set(known.trackers))
    if shared_trackers:
        evidence.append(Evidence("trackers", "same analytics IDs: " + ", ".join(shared_trackers), 0.6))
    if new.favicon and new.favicon == known.favicon:
        evidence.append(Evidence("favicon", f"same favicon (SHA-256 {new.favicon[:16]}…)", 0.3))
    if new.tls and known.tls:
        if new.tls.get("sha256") and new.tls.get("sha256") == known.tls.get("sha256"):
            evidence.append(Evidence("tls", "same TLS certificate " + str(new.tls["sha256"])[:16] + "…", 0.6))
        elif known.site in (new.tls.get("san") or []) or new.site in (known.tls.get("san") or []):
            evidence.append(Evidence("tls", "one certificate names the other domain", 0.6))
    shared_media = set(new.media) & set(known.media)
    if shared_media:
        weight = min(0.45, 0.15 * len(shared_media))
        evidence.append(Evidence("media", f"{len(shared_media)} media files with the same SHA-256", weight))
    shared_links = (set(new.outlinks) & set(known.outlinks)) - {new.site, known.site}
    union = set(new.outlinks) | set(known.outlinks)
    if len(shared_links) >= 2 and len(shared_links) / max(1, len(union)) >= 0.3:
        evidence.append(
            Evidence("outlinks", "links to the same sites: " + ", ".join(sorted(shared_links)[:10]), 0.2)
        )
    remaining = 1.0
    for e in evidence:
        remaining *= 1.0 - e.weight
    return Match(round(1.0 - remaining, 4), evidence)
