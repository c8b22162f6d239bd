"""Second stage: near-duplicate matching against a user-managed bank of known propaganda texts.

The bank is a JSON Lines file of ``{"id", "text"}`` records (``$VIGIL_HOME/textbank.jsonl`` by default, or
``vigil classify --bank FILE``); analysts add texts they have confirmed. Each entry's letters-only normalised
content is shingled into word 3-grams and MinHashed (datasketch, 64 permutations) into an LSH index.

How the stages combine: the first stage decides alone above its threshold and below ``low`` (default 0.1).
Items in between (undecided) are looked up in the bank; a near-duplicate (estimated Jaccard >= 0.6) lifts the
score to ``0.5 + 0.5 * jaccard`` (never above 1, never lowered), sets the label and adds a reason naming the
bank entry. Obfuscation does not help evade it: matching is on normalised text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vigil.errors import RecordError
from vigil.text.features import content_text
from vigil.text.normalise import normalise

NUM_PERM = 64
JACCARD = 0.6


def _shingles(content: str) -> set[bytes]:
    words = content.split()
    if len(words) < 3:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + 3]).encode("utf-8") for i in range(len(words) - 2)}


class TextBank:
    def __init__(self) -> None:
        from datasketch import MinHashLSH

        self.lsh = MinHashLSH(threshold=JACCARD, num_perm=NUM_PERM)
        self.entries: dict[str, set[bytes]] = {}

    def _minhash(self, shingles: set[bytes]) -> Any:
        from datasketch import MinHash

        m = MinHash(num_perm=NUM_PERM, seed=1)
        m.update_batch(list(shingles))
        return m

    def add(self, entry_id: str, text: str) -> bool:
        shingles = _shingles(content_text(normalise(text).text))
        if not shingles or entry_id in self.entries:
            return False
        self.entries[entry_id] = shingles
        self.lsh.insert(entry_id, self._minhash(shingles))
        return True

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def load(cls, path: Path) -> TextBank:
        bank = cls()
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                    bank.add(str(rec["id"]), str(rec["text"]))
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    raise RecordError(
                        f"bank entry is not {{'id', 'text'}} JSON ({exc})", f"{path}:{number}"
                    ) from exc
        return bank

    def best_match(self, content: str) -> tuple[str, float] | None:
        """The most similar bank entry and its exact Jaccard similarity, if any reaches the threshold."""
        shingles = _shingles(content)
        if not shingles or not self.entries:
            return None
        best: tuple[str, float] | None = None
        for key in self.lsh.query(self._minhash(shingles)):
            other = self.entries[key]
            jac = len(shingles & other) / len(shingles | other)
            if jac >= JACCARD and (best is None or jac > best[1]):
                best = (key, jac)
        return best


def default_bank(home: Path) -> TextBank | None:
    """The bank at ``$VIGIL_HOME/textbank.jsonl``, if there is one: the second stage that ``vigil
    classify`` and the ``text`` detector of ``vigil scan`` both apply."""
    path = home / "textbank.jsonl"
    return TextBank.load(path) if path.is_file() else None
