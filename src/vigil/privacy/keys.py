"""Keys kept outside the database: the pseudonym (HMAC) key and the vault (AES-GCM) key.

Each comes from an environment variable (hex or URL-safe base64 of at least 32 bytes) or, failing that,
from a file under ``$VIGIL_HOME/keys/``, created on first use with mode 0600. Creation is atomic: two
processes that start together end up with the same key.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
from pathlib import Path

from vigil.errors import ConfigError

PSEUDONYM_ENV = "VIGIL_PSEUDONYM_KEY"
VAULT_ENV = "VIGIL_VAULT_KEY"
KEY_BYTES = 32


def decode_key(text: str, where: str) -> bytes:
    value = text.strip()
    raw: bytes | None = None
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) < KEY_BYTES:
        raise ConfigError(f"{where}: expected hex or base64 of at least {KEY_BYTES} random bytes")
    return raw


def load_or_create(path: Path, env_name: str) -> tuple[bytes, str]:
    """The key and where it came from (``env:NAME`` or the file path)."""
    env = os.environ.get(env_name)
    if env:
        return decode_key(env, env_name), f"env:{env_name}"
    if not path.exists():
        _create(path)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigError(f"{path}: key file must not be readable by others (mode {mode:o}; chmod 600)")
    return decode_key(path.read_text("ascii"), str(path)), str(path)


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(KEY_BYTES) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        # Fails if another process created the key first: theirs wins.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
