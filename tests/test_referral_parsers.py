"""Hostile input for the referral side: RDAP answers of any shape, oversized answers, and the configurable
sink that receives removed media (how the hash-bank feature connects)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.local_servers import Page, web_server
from vigil.config import Config
from vigil.errors import ConfigError
from vigil.referral.hashbank import TableSink, load_sink
from vigil.referral.rdap import MAX_RDAP_BYTES, RdapClient, RdapError, parse_autnum, parse_domain, parse_ip
from vigil.store import Store

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25,
)
rdap_like = st.fixed_dictionaries(
    {},
    optional={
        "ldhName": json_values,
        "entities": st.lists(
            st.fixed_dictionaries(
                {}, optional={"roles": json_values, "vcardArray": json_values, "entities": json_values}
            )
            | json_values,
            max_size=4,
        ),
        "nameservers": json_values,
        "name": json_values,
        "startAutnum": json_values,
    },
)


@settings(max_examples=200, deadline=None)
@given(data=rdap_like)
def test_rdap_parsers_take_any_shape(data: dict[str, Any]) -> None:
    for parse in (parse_domain, parse_ip, parse_autnum):
        try:
            out = parse(data)
        except (TypeError, AttributeError) as exc:  # pragma: no cover - the assertion below reports it
            pytest.fail(f"{parse.__name__} crashed on {data!r}: {exc}")
        assert isinstance(out, dict)


def test_oversized_and_broken_rdap_answers(config: Config) -> None:
    with web_server() as web:
        web.pages["/ip/1.2.3.4"] = Page(200, b"[" + b"0," * (MAX_RDAP_BYTES // 2 + 10) + b"0]", {})
        web.pages["/ip/5.6.7.8"] = Page(500, b"", {})
        config.extra["rdap"] = {"ip": web.url("/")}
        config.allowed_networks = ("127.0.0.1/32",)  # RDAP goes through the SSRF guard
        client = RdapClient(config)
        try:
            with pytest.raises(RdapError, match="larger than"):
                client.ip("1.2.3.4")
            with pytest.raises(RdapError, match="HTTP 500"):
                client.ip("5.6.7.8")
        finally:
            client.close()


def test_rdap_goes_through_the_guard_on_every_hop(config: Config) -> None:
    with web_server() as web:
        answer = {"name": "PLACEHOLDER-NET", "handle": "NET-1", "entities": []}
        web.pages["/ip/192.0.2.1"] = Page(200, json.dumps(answer).encode(), {})
        web.pages["/ip/192.0.2.2"] = Page(302, b"", {"Location": "/ip/192.0.2.1"})
        # a referral to an address the rule refuses (127.0.0.2 is loopback, outside allowed_networks)
        web.pages["/ip/192.0.2.3"] = Page(302, b"", {"Location": f"http://127.0.0.2:{web.port}/ip/192.0.2.1"})
        config.extra["rdap"] = {"ip": web.url("/")}
        with RdapClient(config) as refused, pytest.raises(RdapError, match=r"refused: .*loopback"):
            refused.ip("192.0.2.1")
        assert web.requests == []
        config.allowed_networks = ("127.0.0.1/32",)
        with RdapClient(config) as client:
            assert client.ip("192.0.2.1")["network"] == "PLACEHOLDER-NET"
            assert client.ip("192.0.2.2")["network"] == "PLACEHOLDER-NET"  # a redirect, followed
            seen = len(web.requests)
            with pytest.raises(RdapError, match=r"refused: .*127\.0\.0\.2"):
                client.ip("192.0.2.3")
        assert len(web.requests) == seen + 1 and web.requests[-1][1]["User-Agent"] == config.user_agent


class ListSink:
    def __init__(self) -> None:
        self.got: list[tuple[str, Path | None, dict[str, Any]]] = []

    def add_removed_media(self, sha256: str, path: Path | None, meta: dict[str, Any]) -> None:
        self.got.append((sha256, path, meta))


def make_sink(store: Store, config: Config) -> ListSink:
    return ListSink()


def test_sink_is_configurable(store: Store, config: Config) -> None:
    assert isinstance(load_sink(store, config), TableSink)
    config.extra["removed_media_sink"] = "tests.test_referral_parsers:make_sink"
    sink = load_sink(store, config)
    assert isinstance(sink, ListSink)
    config.extra["removed_media_sink"] = "tests.nowhere:make_sink"
    with pytest.raises(ConfigError, match="removed_media_sink"):
        load_sink(store, config)
    table = TableSink(store)
    table.add_removed_media("a" * 64, None, {"case_id": 1, "url": "https://example.test/m.png"})
    table.add_removed_media("a" * 64, None, {"case_id": 2})  # the same hash again is kept once
    assert table.contains("a" * 64) and not table.contains("b" * 64)
