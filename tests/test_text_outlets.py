"""Outlet attribution: registry loading and extension, Aho-Corasick matching on normalised text, raw spans."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.errors import ConfigError
from vigil.text.normalise import normalise
from vigil.text.outlets import OutletMatcher, load_registry, parse_registry


@pytest.fixture(scope="module")
def matcher() -> OutletMatcher:
    return OutletMatcher(load_registry(None))


def test_registry_has_the_outlets_of_public_research() -> None:
    outlets = load_registry(None)
    for outlet_id in ("amaq", "al-bayan", "al-naba", "al-furqan", "al-hayat", "nashir", "dabiq", "rumiyah"):
        assert outlet_id in outlets
    assert outlets["amaq"].tier == "official" and outlets["nashir"].tier == "distribution"
    assert any("أعماق" in a for a in outlets["amaq"].aliases)


def test_matches_latin_and_arabic_names_with_raw_spans(matcher: OutletMatcher) -> None:
    raw = "Placeholder report: the AMAQ  News-Agency and وكالة أعماق were named."
    found = matcher.match(normalise(raw))
    assert found[0]["outlet"] == "amaq"
    assert found[0]["confidence"] > 0.9
    spans = {raw[m["start"] : m["end"]] for m in found[0]["matches"]}
    assert "AMAQ  News-Agency" in spans
    assert "وكالة أعماق" in spans


def test_obfuscated_names_still_match(matcher: OutletMatcher) -> None:
    raw = "see the Ａｍ\u200bаq agency"  # fullwidth, zero-width, Cyrillic а
    found = matcher.match(normalise(raw))
    assert [o["outlet"] for o in found] == ["amaq"]
    match = found[0]["matches"][0]
    assert raw[match["start"] : match["end"]] == "Ａｍ\u200bаq"


def test_common_words_alone_are_too_weak_and_substrings_do_not_match(matcher: OutletMatcher) -> None:
    assert matcher.match(normalise("البيان")) == []  # "the statement": a common word, weight 0.2
    assert matcher.match(normalise("Amaqsomething unrelated, Dabiqville")) == []
    assert matcher.match(normalise("")) == []


def test_user_registry_extends_and_overrides(tmp_path: Path) -> None:
    (tmp_path / "outlets.yaml").write_text(
        "groups:\n  - id: test-group\n    outlets:\n      - id: placeholder-outlet\n        tier: supporter\n"
        "        aliases:\n          - {alias: Placeholder Media Wing, weight: 0.9}\n",
        "utf-8",
    )
    outlets = load_registry(tmp_path)
    assert "placeholder-outlet" in outlets and "amaq" in outlets
    found = OutletMatcher(outlets).match(normalise("a post by placeholder media wing"))
    assert found[0]["outlet"] == "placeholder-outlet" and found[0]["group"] == "test-group"


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"groups": "x"},
        {"groups": [{"outlets": []}]},
        {"groups": [{"id": "g", "outlets": [{"id": "o", "tier": "bogus", "aliases": [{"alias": "x"}]}]}]},
        {
            "groups": [
                {
                    "id": "g",
                    "outlets": [{"id": "o", "tier": "official", "aliases": [{"alias": "x", "weight": 3}]}],
                }
            ]
        },
        {"groups": [{"id": "g", "outlets": [{"id": "o", "tier": "official"}]}]},
    ],
)
def test_malformed_registries_are_refused_with_where(data: object) -> None:
    with pytest.raises(ConfigError, match=r"user\.yaml"):
        parse_registry(data, "user.yaml")


def test_unreadable_user_registry_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "outlets.yaml").write_text("groups: [unclosed", "utf-8")
    with pytest.raises(ConfigError, match=r"outlets\.yaml"):
        load_registry(tmp_path)
