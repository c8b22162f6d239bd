"""Shared set-up for the evidence and referral tests: a config that trusts the local servers, and a case."""

from __future__ import annotations

from vigil.config import Config
from vigil.core.model import Case, Item, make_item_id
from vigil.store import Store


def local_config(config: Config, dns_address: str, **extra: object) -> Config:
    config.allow_private_addresses = True
    config.http_timeout = 5.0
    config.extra["dns_servers"] = [dns_address]
    config.extra.update(extra)
    return config


def make_case(store: Store, url: str, title: str = "placeholder case") -> int:
    item = Item(
        id=make_item_id("web", url), source="web", text="neutral placeholder text", url=url, native_id=url
    )
    store.add_items([item])
    (case_id,) = store.open_cases([Case(None, item.id, title=title, score=0.9)])
    return case_id
