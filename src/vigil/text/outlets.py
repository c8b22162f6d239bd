"""Outlet attribution: names and aliases of propaganda outlets found in normalised text (Aho-Corasick).

The registry is ``vigil/data/outlets.yaml`` plus, when present, ``$VIGIL_HOME/outlets.yaml`` (same shape; an
outlet with an existing id replaces the built-in one). Aliases and text pass through the same normaliser,
then every run of non-letters becomes one space, so "al-Naba'", "Al Naba" and "ＡＬ-ＮＡＢＡ" match alike.
An outlet's confidence is ``1 - prod(1 - weight)`` over the distinct aliases found; outlets below
``min_confidence`` are not reported. A mention is evidence, not a verdict: news reports name Amaq too, so
attribution never changes the classifier's score.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from vigil.errors import ConfigError
from vigil.text.normalise import Normalised, normalise

_TOKEN = re.compile(r"[^\W_]+")


@dataclass(slots=True)
class Outlet:
    id: str
    name: str
    group: str
    tier: str
    languages: list[str] = field(default_factory=list)
    aliases: dict[str, float] = field(default_factory=dict)


def _match_form(text: str) -> str:
    return " ".join(_TOKEN.findall(normalise(text).text))


def parse_registry(data: Any, where: str) -> dict[str, Outlet]:
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
        raise ConfigError(f"{where}: needs a top-level 'groups' list")
    outlets: dict[str, Outlet] = {}
    for g in data["groups"]:
        if not isinstance(g, dict) or "id" not in g:
            raise ConfigError(f"{where}: every group needs an 'id'")
        for o in g.get("outlets") or []:
            try:
                aliases = {str(a["alias"]): float(a.get("weight", 1.0)) for a in o["aliases"]}
                outlet = Outlet(
                    str(o["id"]),
                    str(o.get("name", o["id"])),
                    str(g["id"]),
                    str(o["tier"]),
                    [str(x) for x in o.get("languages") or []],
                    aliases,
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ConfigError(f"{where}: outlet {o!r:.60} is malformed ({exc})") from exc
            if outlet.tier not in ("official", "distribution", "supporter"):
                raise ConfigError(
                    f"{where}: outlet {outlet.id}: tier must be official/distribution/supporter"
                )
            if any(not 0.0 < w <= 1.0 for w in aliases.values()):
                raise ConfigError(f"{where}: outlet {outlet.id}: alias weights must be in (0, 1]")
            outlets[outlet.id] = outlet
    return outlets


def load_registry(home: Path | None = None) -> dict[str, Outlet]:
    text = resources.files("vigil").joinpath("data/outlets.yaml").read_text("utf-8")
    outlets = parse_registry(yaml.safe_load(text), "vigil/data/outlets.yaml")
    user = home / "outlets.yaml" if home else None
    if user and user.exists():
        try:
            outlets.update(parse_registry(yaml.safe_load(user.read_text("utf-8")), str(user)))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{user}: not readable YAML ({exc})") from exc
    return outlets


class OutletMatcher:
    def __init__(self, outlets: dict[str, Outlet], min_confidence: float = 0.3) -> None:
        import ahocorasick

        self.outlets = outlets
        self.min_confidence = min_confidence
        self.automaton = ahocorasick.Automaton()
        keyed: dict[str, list[tuple[str, str, float]]] = {}
        for outlet in outlets.values():
            for alias, weight in outlet.aliases.items():
                form = _match_form(alias)
                if form:
                    keyed.setdefault(f" {form} ", []).append((outlet.id, alias, weight))
        for key, entries in keyed.items():
            self.automaton.add_word(key, entries)
        self.automaton.make_automaton()
        self.empty = not keyed

    def match(self, norm: Normalised) -> list[dict[str, Any]]:
        if self.empty:
            return []
        tokens = list(_TOKEN.finditer(norm.text))
        if not tokens:
            return []
        starts, pieces, pos = [], [], 1
        for t in tokens:
            starts.append(pos)
            pieces.append(t.group(0))
            pos += len(t.group(0)) + 1
        text = " " + " ".join(pieces) + " "
        found: dict[str, dict[str, Any]] = {}
        for end, entries in self.automaton.iter(text):
            for outlet_id, alias, weight in entries:
                key_len = len(_match_form(alias)) + 2
                begin = end - key_len + 2
                t0 = bisect.bisect_right(starts, begin) - 1
                t1 = bisect.bisect_right(starts, end - 1) - 1
                raw0, _ = norm.raw_span(tokens[t0].start(), tokens[t0].end())
                _, raw1 = norm.raw_span(tokens[t1].start(), tokens[t1].end())
                hit = found.setdefault(outlet_id, {"aliases": {}, "spans": []})
                hit["aliases"][alias] = weight
                hit["spans"].append({"alias": alias, "start": raw0, "end": raw1})
        out = []
        for outlet_id, hit in found.items():
            miss = 1.0
            for w in hit["aliases"].values():
                miss *= 1.0 - w
            confidence = round(1.0 - miss, 4)
            if confidence < self.min_confidence:
                continue
            o = self.outlets[outlet_id]
            out.append(
                {
                    "outlet": o.id,
                    "name": o.name,
                    "group": o.group,
                    "tier": o.tier,
                    "confidence": confidence,
                    "matches": hit["spans"][:10],
                }
            )
        return sorted(out, key=lambda d: -d["confidence"])
