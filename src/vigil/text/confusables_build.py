"""Build the compact confusables table shipped in ``vigil/data/text/confusables.json`` (run at dev time).

Source: the ``confusable-homoglyphs`` package (MIT), which ships Unicode's confusables.txt (TS #39) as JSON.
We keep only what folding needs: a single non-ASCII character that Unicode lists as confusable with an
ASCII letter or digit maps to that ASCII character (lowercase preferred); an Arabic-script variant that is
confusable with a basic Arabic letter (U+0621-U+064A) maps to that letter.

    python -m vigil.text.confusables_build /path/to/confusable_homoglyphs/confusables.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "data" / "text" / "confusables.json"


def _target(char: str, candidates: list[str]) -> str | None:
    ascii_alnum = sorted(c for c in candidates if len(c) == 1 and c.isascii() and c.isalnum())
    if ascii_alnum:
        lower = [c for c in ascii_alnum if c.islower()]
        return (lower or [c.lower() for c in ascii_alnum if c.isalpha()] or ascii_alnum)[0]
    arabic = sorted(c for c in candidates if len(c) == 1 and "\u0621" <= c <= "\u064a")
    if arabic and not ("\u0621" <= char <= "\u064a"):
        return arabic[0]
    return None


def build(source: Path) -> dict[str, str]:
    data = json.loads(source.read_text("utf-8"))
    table: dict[str, str] = {}
    for char, entries in data.items():
        if len(char) != 1 or char.isascii():
            continue
        target = _target(char, [e["c"] for e in entries])
        if target is not None:
            table[char] = target
    return dict(sorted(table.items()))


def main() -> None:
    table = build(Path(sys.argv[1]))
    OUT.write_text(json.dumps(table, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")
    print(f"{len(table)} mappings -> {OUT}")


if __name__ == "__main__":
    main()
