"""The templates' strings, one JSON file per language under ``vigil/data/referral/strings/``.

A language file may be partial: what it lacks comes from English. ``$VIGIL_HOME/strings/<lang>.json`` adds
or overrides a language without touching the package.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

from vigil.config import Config
from vigil.errors import ConfigError, UsageError

_LANG = re.compile(r"^[a-z]{2}$")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = (
            _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


def _read(text: str, where: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a JSON object")
    return data


def available(config: Config | None = None) -> list[str]:
    folder = resources.files("vigil.data").joinpath("referral", "strings")
    names = {p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json")}
    if config and (config.home / "strings").is_dir():
        names |= {p.stem for p in (config.home / "strings").glob("*.json")}
    return sorted(names)


def load_strings(lang: str, config: Config | None = None) -> dict[str, Any]:
    if not _LANG.match(lang):
        raise UsageError(f"language must be a two-letter code, not {lang!r}")
    folder = resources.files("vigil.data").joinpath("referral", "strings")
    strings = _read(folder.joinpath("en.json").read_text("utf-8"), "strings/en.json")
    shipped = folder.joinpath(f"{lang}.json")
    if lang != "en" and shipped.is_file():
        strings = _merge(strings, _read(shipped.read_text("utf-8"), f"strings/{lang}.json"))
    user = config.home / "strings" / f"{lang}.json" if config else None
    if user is not None and user.is_file():
        strings = _merge(strings, _read(user.read_text("utf-8"), str(user)))
    elif lang not in available(config):
        raise UsageError(f"no strings for language {lang!r} (have: {', '.join(available(config))})")
    return strings
