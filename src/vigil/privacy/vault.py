"""The vault: clear identifiers encrypted with AES-GCM under a key kept outside the database.

Each entry is bound to its pseudonym (associated data), so a ciphertext moved to another row does not
decrypt. Only ``vigil.privacy.reveal`` reads clear values back.
"""

from __future__ import annotations

import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vigil.errors import VigilError

NONCE = 12


class VaultError(VigilError):
    """A vault entry cannot be decrypted (wrong key, or the entry was tampered with)."""


class Vault:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key[:32])

    def seal(self, pseudonym: str, clear: dict[str, Any]) -> bytes:
        nonce = os.urandom(NONCE)
        body = json.dumps(clear, ensure_ascii=False, sort_keys=True).encode("utf-8", "surrogatepass")
        return nonce + self._aead.encrypt(nonce, body, pseudonym.encode("ascii"))

    def open(self, pseudonym: str, sealed: bytes) -> dict[str, Any]:
        try:
            body = self._aead.decrypt(sealed[:NONCE], sealed[NONCE:], pseudonym.encode("ascii"))
        except (InvalidTag, ValueError) as exc:
            raise VaultError(f"vault entry {pseudonym} does not decrypt (wrong key or tampered)") from exc
        out: dict[str, Any] = json.loads(body)
        return out
