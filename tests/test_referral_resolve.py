"""Hosting-provider resolution with the real RDAP and DNS clients against servers the test starts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

from tests.evidence_helpers import local_config, run_cli
from tests.local_servers import DnsServer, Page, WebServer, dns_server, web_server
from vigil.config import Config
from vigil.errors import ConfigError, UsageError
from vigil.referral.registry import load_platforms
from vigil.referral.resolve import ProviderResolver, registered_domain
from vigil.store import Store


def _entity(role: str, name: str, email: str, nested: list[dict] | None = None) -> dict:
    return {
        "roles": [role],
        "handle": name.upper(),
        "vcardArray": [
            "vcard",
            [["version", {}, "text", "4.0"], ["fn", {}, "text", name], ["email", {}, "text", email]],
        ],
        "entities": nested or [],
    }


def _json(obj: dict) -> Page:
    return Page(200, json.dumps(obj).encode(), {"Content-Type": "application/rdap+json"})


@pytest.fixture
def rdap() -> Iterator[tuple[WebServer, DnsServer]]:
    with web_server() as web, dns_server() as dns:
        dns.zone["files.example.test"] = {"A": ["192.0.2.10"]}
        dns.zone["cdn-site.test"] = {"A": ["104.16.1.1"]}
        dns.zone["10.2.0.192.origin.asn.cymru.com"] = {
            "TXT": ['"64500 | 192.0.2.0/24 | NL | ripencc | 2010-01-01"']
        }
        dns.zone["1.1.16.104.origin.asn.cymru.com"] = {
            "TXT": ['"13335 | 104.16.0.0/13 | US | arin | 2014-03-28"']
        }
        web.pages["/dns/domain/example.test"] = _json(
            {
                "objectClassName": "domain",
                "ldhName": "EXAMPLE.TEST",
                "entities": [
                    _entity(
                        "registrar",
                        "Placeholder Registrar",
                        "x@r.test",
                        [_entity("abuse", "Abuse", "abuse@registrar.test")],
                    )
                ],
                "nameservers": [{"ldhName": "NS1.EXAMPLE.TEST"}],
            }
        )
        web.pages["/ip/ip/192.0.2.10"] = _json(
            {
                "name": "PLACEHOLDER-NET",
                "handle": "NET-192-0-2-0",
                "startAddress": "192.0.2.0",
                "endAddress": "192.0.2.255",
                "country": "NL",
                "entities": [
                    _entity("registrant", "Placeholder Hosting B.V.", "noc@host.test"),
                    _entity("abuse", "Abuse desk", "abuse@host.test"),
                ],
            }
        )
        web.pages["/ip/autnum/64500"] = _json(
            {"startAutnum": 64500, "name": "PLACEHOLDER-AS", "entities": []}
        )
        web.pages["/ip/ip/104.16.1.1"] = _json({"name": "CLOUDFLARENET", "entities": []})
        web.pages["/dns/domain/cdn-site.test"] = Page(404, b"{}")
        web.pages["/ip/autnum/13335"] = _json({"startAutnum": 13335, "name": "CLOUDFLARENET"})
        yield web, dns


def _cfg(config: Config, web: WebServer, dns: DnsServer) -> Config:
    return local_config(
        config,
        dns.address,
        rdap={"dns": {"test": web.url("/dns/")}, "ip": web.url("/ip/"), "autnum": web.url("/ip/")},
    )


def test_domain_ip_asn_and_cache(store: Store, config: Config, rdap: tuple[WebServer, DnsServer]) -> None:
    web, dns = rdap
    with ProviderResolver(store, _cfg(config, web, dns)) as resolver:
        p = resolver.resolve("https://files.example.test/f/123")
        assert p.domain == "example.test" and p.addresses == ["192.0.2.10"]
        assert p.registrar["registrar"] == "Placeholder Registrar"
        assert p.registrar["abuse_email"] == "abuse@registrar.test"
        assert p.network["abuse_email"] == "abuse@host.test" and p.network["country"] == "NL"
        assert p.asn["asn"] == 64500 and p.asn["name"] == "PLACEHOLDER-AS"
        assert p.cdn is None
        assert p.recipient["kind"] == "host" and p.recipient["email"] == "abuse@host.test"
        served = len(web.requests)
        again = resolver.resolve("https://files.example.test/other")
        assert len(web.requests) == served, "second resolution must come from the cache"
        assert again.registrar["cached"] is True and again.recipient == p.recipient


def test_cdn_detected_by_asn_and_missing_rdap_recorded(
    store: Store, config: Config, rdap: tuple[WebServer, DnsServer]
) -> None:
    web, dns = rdap
    with ProviderResolver(store, _cfg(config, web, dns)) as resolver:
        p = resolver.resolve("http://cdn-site.test/page")
    assert p.cdn is not None and p.cdn["key"] == "cloudflare" and "13335" in p.cdn["evidence"]
    assert p.recipient["kind"] == "cdn"
    assert any("not found" in e for e in p.errors)


def test_known_platform_and_user_registry(
    store: Store, config: Config, rdap: tuple[WebServer, DnsServer]
) -> None:
    web, dns = rdap
    (config.home / "platforms.yaml").write_text(
        "platforms:\n  - key: telegram\n    name: Telegram\n    domains: [t.me]\n"
        "    legal_email: legal@platform.test\n"
        "    legal_representative: {name: Placeholder Rep, email: rep@platform.test}\n"
        "  - key: newsite\n    name: New Site\n    domains: [newsite.test]\n",
        "utf-8",
    )
    with ProviderResolver(store, _cfg(config, web, dns)) as resolver:
        p = resolver.resolve("https://t.me/some_channel/12")
        assert p.platform is not None and p.recipient["email"] == "legal@platform.test"
        assert p.recipient["legal_representative"]["name"] == "Placeholder Rep"
        assert resolver.resolve("https://www.newsite.test/a").recipient["key"] == "newsite"
        assert web.requests == [] and dns.queries == []
        with pytest.raises(UsageError):
            resolver.resolve("ftp://t.me/x")


def test_host_known_by_asn_brings_its_contacts(
    store: Store, config: Config, rdap: tuple[WebServer, DnsServer]
) -> None:
    """A hosting company the user added by its network: its removal-order contacts replace the abuse desk."""
    web, dns = rdap
    (config.home / "platforms.yaml").write_text(
        "platforms:\n  - key: placeholder-hosting\n    name: Placeholder Hosting B.V.\n    asns: [64500]\n"
        "    member_state: nl\n    contact_point: {name: TCO desk, email: tco@host.test, phone: ''}\n",
        "utf-8",
    )
    with ProviderResolver(store, _cfg(config, web, dns)) as resolver:
        p = resolver.resolve("https://files.example.test/f/123")
    assert p.asn["asn"] == 64500 and p.network["abuse_email"] == "abuse@host.test"
    assert p.recipient["key"] == "placeholder-hosting" and p.recipient["kind"] == "host"
    assert p.recipient["contact_point"] == {"name": "TCO desk", "email": "tco@host.test"}
    assert p.recipient["member_state"] == "NL" and p.recipient["to_fill"] == []


def test_shipped_registry_and_the_providers_command(home: Path, config: Config) -> None:
    """The major platforms ship with their domains and no contact: every contact field is to be filled."""
    shipped = {p.key: p for p in load_platforms(config)}
    assert {"telegram", "youtube", "facebook", "archive-org"} <= set(shipped)
    for platform in shipped.values():
        assert platform.contact_point == {} and platform.legal_representative == {}
        assert platform.member_state == "" and platform.to_fill == ["contact_point", "member_state"]
    text = resources.files("vigil.data").joinpath("referral", "platforms.yaml").read_text("utf-8")
    assert text.count("# to be filled by the user") == 3 * len(shipped)
    listed = run_cli(["referral", "providers"], home)
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {r["key"] for r in rows} == set(shipped)
    assert "telegram: to be filled by the user: contact_point, member_state" in listed.stderr


@pytest.mark.parametrize(
    "entry",
    [
        "contact_point: just a string",
        "asns: [not-a-number]",
        "legal_representative: [a, b]",
    ],
)
def test_bad_registry_entries_are_config_errors(config: Config, entry: str) -> None:
    (config.home / "platforms.yaml").write_text(
        f"platforms:\n  - key: broken\n    domains: [broken.test]\n    {entry}\n", "utf-8"
    )
    with pytest.raises(ConfigError, match="broken"):
        load_platforms(config)


def test_bad_registry_and_rdap_answers(
    store: Store, config: Config, rdap: tuple[WebServer, DnsServer]
) -> None:
    web, dns = rdap
    (config.home / "platforms.yaml").write_text("platforms: [unclosed\n", "utf-8")
    with pytest.raises(ConfigError, match=r"platforms\.yaml"):
        load_platforms(config)
    (config.home / "platforms.yaml").write_text("platforms:\n  - name: no key\n", "utf-8")
    with pytest.raises(ConfigError, match="key"):
        load_platforms(config)
    (config.home / "platforms.yaml").unlink()
    web.pages["/dns/domain/example.test"] = Page(200, b"{not json", {})
    web.pages["/ip/ip/192.0.2.10"] = Page(200, b"[1, 2]", {})
    with ProviderResolver(store, _cfg(config, web, dns)) as resolver:
        p = resolver.resolve("https://files.example.test/x")
    assert "not JSON" in p.registrar["error"] and "not a JSON object" in p.network["error"]
    assert p.recipient["email"] == ""  # nothing to send to is said, not guessed


def test_registered_domain() -> None:
    assert registered_domain("a.b.example.co.uk") == "example.co.uk"
    assert registered_domain("www.example.org") == "example.org"
