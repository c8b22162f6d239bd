"""``vigil crawl`` and ``vigil mirrors`` through the real command line, host names pinned with --resolve."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.test_mirrors import route
from tests.webserver import serve
from vigil.audit.log import verify
from vigil.boot import open_store
from vigil.config import Config
from vigil.mirrors.check import list_links

RESOLVE = [f"--resolve={h}=127.0.0.1" for h in ("outlet.test", "www.mirror-copy.test")]


def vigil(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIGIL_HOME": str(home), "VIGIL_ALLOW_PRIVATE_ADDRESSES": "1"}
    env.pop("VIGIL_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "vigil", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_crawl_outlet_then_its_mirror(home: Path) -> None:
    with serve(route) as web:
        outlet = vigil(
            home, "crawl", web.url("outlet.test"), "--outlet", "Amaq", "--delay", "0", "--json", *RESOLVE
        )
        assert outlet.returncode == 0, outlet.stderr
        mirror = vigil(
            home,
            "crawl",
            web.url("www.mirror-copy.test"),
            "--same-site",
            "--max-pages",
            "4",
            "--delay",
            "0",
            "--ignore-robots",
            "test of the override",
            "--json",
            *RESOLVE,
        )
    assert mirror.returncode == 0, mirror.stderr
    first, second = json.loads(outlet.stdout), json.loads(mirror.stdout)
    assert first["pages"] == 6 and first["mirrors"] == []
    assert second["pages"] == 4 and second["robots_override"] == "test of the override"
    assert [(m["domain"], m["outlet"]) for m in second["mirrors"]] == [("mirror-copy.test", "Amaq")]
    store = open_store(Config.load(home))
    assert [link.outlet_domain for link in list_links(store)] == ["outlet.test"]
    entries = verify(store)
    assert entries.ok and entries.entries == 1  # the robots.txt override, with its reason
    assert store.count("cases") == 1
    store.close()


def test_crawl_refused_without_the_allow_setting(home: Path) -> None:
    env = {**os.environ, "VIGIL_HOME": str(home)}
    env.pop("VIGIL_ALLOW_PRIVATE_ADDRESSES", None)
    with serve(route) as web:
        done = subprocess.run(
            [sys.executable, "-m", "vigil", "crawl", web.url("outlet.test"), "--json", *RESOLVE],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert web.log == []
    assert done.returncode == 1
    summary = json.loads(done.stdout)
    assert summary["pages"] == 0 and summary["refused"] == 1
