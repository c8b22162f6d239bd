"""A content-addressed blob store on disk: ``$VIGIL_HOME/evidence/ab/cd/<sha256>``.

Writes are atomic (temporary file, then rename); reads check the hash, so a changed file is an error,
never silently served.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from vigil.errors import VigilError


class EvidenceIntegrityError(VigilError):
    """A stored blob no longer matches its hash, or is missing."""


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise EvidenceIntegrityError(f"not a SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o440)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, sha256: str) -> bytes:
        target = self.path(sha256)
        try:
            data = target.read_bytes()
        except FileNotFoundError as exc:
            raise EvidenceIntegrityError(f"blob {sha256} is missing from {self.root}") from exc
        if hashlib.sha256(data).hexdigest() != sha256:
            raise EvidenceIntegrityError(f"blob {sha256} no longer matches its hash ({target})")
        return data

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def delete(self, sha256: str) -> bool:
        target = self.path(sha256)
        if not target.exists():
            return False
        target.chmod(0o640)
        target.unlink()
        return True
