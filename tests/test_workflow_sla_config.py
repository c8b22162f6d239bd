"""``[workflow.sla]`` in config.toml and the duration parser behind it: good values, bad values (a
``ConfigError`` naming the key), hostile text (hypothesis), and an app that refuses to start on bad ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.config import Config
from vigil.core.durations import MAX_DURATION, format_duration, parse_duration
from vigil.core.model import Severity
from vigil.errors import ConfigError
from vigil.web.app import create_app
from vigil.workflow.sla_config import DEFAULT_REVIEW, SlaSettings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("4h", timedelta(hours=4)),
        ("1h30m", timedelta(minutes=90)),
        (" 1h 30m ", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(days=7)),
        ("1d12h", timedelta(hours=36)),
        ("45s", timedelta(seconds=45)),
        ("366d", timedelta(days=366)),
        ("0h5m", timedelta(minutes=5)),
    ],
)
def test_durations_people_write(text: str, expected: timedelta) -> None:
    assert parse_duration(text, "k") == expected


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("", "expected a duration"),
        ("30", "expected a duration"),  # minutes or hours? say which
        (30, "expected a duration"),
        (1.5, "expected a duration"),
        (True, "expected a duration"),
        (None, "expected a duration"),
        (["1h"], "expected a duration"),
        ("1.5h", "expected a duration"),
        ("-1h", "expected a duration"),
        ("1 hour", "expected a duration"),
        ("h", "expected a duration"),
        ("1y", "expected a duration"),
        ("0m", "longer than zero"),
        ("0h0m", "longer than zero"),
        ("30m1h", "largest first"),
        ("1h1h", "each unit once"),
        ("367d", "at most 366 days"),
        ("9999999999h", "expected a duration"),
        ("1h\x00", "expected a duration"),
        ("1h" + " " * 100, "expected a duration"),
    ],
)
def test_bad_durations_name_the_key(value: object, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_duration(value, "workflow.sla.review.other")
    assert str(caught.value).startswith("workflow.sla.review.other: ") and why in str(caught.value)


@given(st.one_of(st.text(max_size=80), st.from_regex(r"\A[0-9wdhms ]{1,20}\Z")))
def test_any_text_is_a_bounded_duration_or_a_config_error(text: str) -> None:
    try:
        found = parse_duration(text, "key")
    except ConfigError as exc:
        assert str(exc).startswith("key: ")
    else:
        assert timedelta(0) < found <= MAX_DURATION


@given(st.integers(min_value=1, max_value=int(MAX_DURATION.total_seconds())))
def test_format_and_parse_round_trip(seconds: int) -> None:
    length = timedelta(seconds=seconds)
    assert parse_duration(format_duration(length), "key") == length


def _load(config: Config, toml: str) -> SlaSettings:
    (config.home / "config.toml").write_text(toml, "utf-8")
    return SlaSettings.from_config(Config.load(config.home))


def test_settings_from_config_toml(config: Config) -> None:
    assert SlaSettings.from_config(config) == SlaSettings()  # no [workflow.sla]: the defaults
    assert SlaSettings().review[Severity.THREAT_TO_LIFE] == timedelta(minutes=30)
    found = _load(
        config,
        '[workflow.sla]\napproval = "90m"\n[workflow.sla.review]\nlive_attack = "45m"\nother = "5d"\n',
    )
    assert found.review[Severity.LIVE_ATTACK] == timedelta(minutes=45)
    assert found.review[Severity.OTHER] == timedelta(days=5)
    assert found.review[Severity.OFFICIAL_RELEASE] == DEFAULT_REVIEW[Severity.OFFICIAL_RELEASE]
    assert found.approval == timedelta(minutes=90)
    assert found.to_dict()["review"]["live_attack"] == "45m" and found.to_dict()["approval"] == "1h30m"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[workflow.sla.review]\nlive_attack = "soon"\n',
            "workflow.sla.review.live_attack: expected a duration",
        ),
        ("[workflow.sla.review]\nlive_attack = 60\n", "workflow.sla.review.live_attack: expected a duration"),
        ('[workflow.sla.review]\nother = "0m"\n', "workflow.sla.review.other: a duration must be longer"),
        ('[workflow.sla.review]\nurgent = "1h"\n', "workflow.sla.review.urgent: no such queue"),
        ('[workflow.sla]\napproval = "-2h"\n', "workflow.sla.approval: expected a duration"),
        (
            '[workflow.sla]\nremoval_order = "2h"\n',
            "workflow.sla.removal_order: a legal clock, not a setting",
        ),
        ('[workflow.sla]\ncomplaint = "3w"\n', "Art. 10"),
        ('[workflow.sla]\nreview = "4h"\n', "[workflow.sla.review] must be a table"),
        ("[workflow.sla]\nreveiw = {}\n", "workflow.sla: unknown keys ['reveiw']"),
        ('[workflow]\nsla = "fast"\n', "[workflow.sla] must be a table"),
        ('workflow = "x"\n', "[workflow] must be a table"),
    ],
)
def test_bad_settings_are_config_errors(config: Config, toml: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(config, toml)
    assert message in str(caught.value)


def test_removal_order_refusal_cites_the_regulation(config: Config) -> None:
    with pytest.raises(ConfigError, match=r"2021/784 Art\. 3\(3\)"):
        _load(config, '[workflow.sla]\nremoval_order = "2h"\n')


def test_app_does_not_start_on_a_bad_sla(config: Config) -> None:
    (config.home / "config.toml").write_text('[workflow.sla.review]\nother = "forever"\n', "utf-8")
    with pytest.raises(ConfigError, match=r"workflow\.sla\.review\.other"):
        create_app(Config.load(config.home))
