"""Evidence bundles: a zip with the WARCs, media, main texts, DNS answers, the case history, a manifest of
every file's SHA-256 and an Ed25519 signature over the manifest.

``verify_bundle`` treats the zip as hostile: it bounds the number of entries, every entry's size and the
total, refuses unsafe names (absolute, ``..``, backslashes, drive letters, duplicates) and reads nothing it
has not bounded. It reports the first file that differs from the manifest.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from vigil import __version__
from vigil.audit.history import history
from vigil.audit.log import append, entries
from vigil.config import Config
from vigil.core.model import utcnow
from vigil.errors import VigilError
from vigil.evidence.capture import blob_store
from vigil.evidence.custody import captures_for_case
from vigil.evidence.signing import fingerprint, load_or_create_key, public_pem, verify_signature
from vigil.store import Store

FORMAT = "vigil-evidence-bundle/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "public_key.pem"
CONTROL = (MANIFEST, SIGNATURE, PUBLIC_KEY)
MAX_ENTRIES = 10_000
MAX_MANIFEST_BYTES = 8 * 1024**2


@dataclass(slots=True)
class VerifyReport:
    ok: bool
    message: str
    file: str | None = None
    files: int = 0
    key_fingerprint: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "message": self.message,
            "file": self.file,
            "files": self.files,
            "key_fingerprint": self.key_fingerprint,
        }


def export_bundle(
    store: Store, config: Config, case_id: int, out: Path, actor: str = "system"
) -> dict[str, Any]:
    case_rows = store.get_case(case_id)
    if case_rows is None:
        raise VigilError(f"case {case_id} does not exist")
    captures = captures_for_case(store, case_id)
    blobs = blob_store(config)
    files: dict[str, bytes] = {}
    for cap in captures:
        folder = f"captures/{cap['id']}"
        for part in cap["parts"]:
            files[f"{folder}/{part['name']}"] = blobs.get(part["sha256"])
        record = {k: v for k, v in cap.items() if k != "parts"}
        record["parts"] = cap["parts"]
        files[f"{folder}/capture.json"] = json.dumps(record, indent=1, sort_keys=True, default=str).encode()
    case_history = {
        "case": case_rows.to_dict(),
        "events": history(store, case_id),
        "audit": [
            {**asdict(e), "at": e.at.isoformat()}
            for e in reversed(entries(store, limit=10_000, target_type="case", target_id=str(case_id)))
        ],
    }
    files["case/history.json"] = json.dumps(case_history, indent=1, sort_keys=True, default=str).encode()
    key = load_or_create_key(config)
    pub = public_pem(key)
    manifest = {
        "format": FORMAT,
        "case_id": case_id,
        "created_at": utcnow().isoformat(),
        "created_by": actor,
        "software": f"vigil/{__version__}",
        "key_fingerprint": fingerprint(pub),
        "files": [
            {"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for name, data in sorted(files.items())
        ],
    }
    manifest_bytes = json.dumps(manifest, indent=1, sort_keys=True).encode()
    signature = base64.b64encode(key.sign(manifest_bytes)) + b"\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w") as zf:
        zf.writestr(MANIFEST, manifest_bytes, zipfile.ZIP_DEFLATED)
        zf.writestr(SIGNATURE, signature, zipfile.ZIP_STORED)
        zf.writestr(PUBLIC_KEY, pub, zipfile.ZIP_STORED)
        for name, data in sorted(files.items()):
            method = zipfile.ZIP_STORED if name.endswith((".gz", ".zip")) else zipfile.ZIP_DEFLATED
            zf.writestr(name, data, method)
    tmp.replace(out)
    append(
        store,
        actor,
        "evidence.export",
        "case",
        case_id,
        {"out": str(out), "files": len(files), "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest()},
    )
    return {"out": str(out), "files": len(files), "key_fingerprint": manifest["key_fingerprint"]}


def _unsafe_name(name: str) -> str | None:
    if not name or "\\" in name or "\x00" in name:
        return "backslash, NUL or empty name"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if any(part in ("..", "") for part in PurePosixPath(name).parts[:-1]) or ".." in name.split("/"):
        return "path traversal"
    return None


def _read_bounded(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """The entry's bytes, or None when it is bigger than ``limit`` whatever its header claims."""
    chunks: list[bytes] = []
    size = 0
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(1 << 16)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)


def _hash_bounded(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> tuple[str, int] | None:
    digest = hashlib.sha256()
    size = 0
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(1 << 16)
            if not chunk:
                return digest.hexdigest(), size
            size += len(chunk)
            if size > limit:
                return None
            digest.update(chunk)


def verify_bundle(path: Path, config: Config, trusted_key: bytes | None = None) -> VerifyReport:
    try:
        with zipfile.ZipFile(path) as zf:
            return _verify(zf, config, trusted_key)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        return VerifyReport(False, f"not a readable zip: {exc}", file=str(path))
    except NotImplementedError as exc:
        return VerifyReport(False, f"unsupported zip feature: {exc}", file=str(path))


def _verify(zf: zipfile.ZipFile, config: Config, trusted_key: bytes | None) -> VerifyReport:
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        return VerifyReport(False, f"too many entries ({len(infos)} > {MAX_ENTRIES})")
    by_name: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        problem = _unsafe_name(info.filename)
        if problem:
            return VerifyReport(False, f"unsafe entry name: {problem}", file=info.filename)
        if info.filename in by_name:
            return VerifyReport(False, "duplicate entry", file=info.filename)
        by_name[info.filename] = info
    for name in CONTROL:
        if name not in by_name:
            return VerifyReport(False, f"{name} is missing", file=name)
    manifest_bytes = _read_member(zf, by_name[MANIFEST], MAX_MANIFEST_BYTES)
    signature_b64 = _read_member(zf, by_name[SIGNATURE], 4096)
    pub = _read_member(zf, by_name[PUBLIC_KEY], 4096)
    if isinstance(manifest_bytes, VerifyReport):
        return manifest_bytes
    if isinstance(signature_b64, VerifyReport):
        return signature_b64
    if isinstance(pub, VerifyReport):
        return pub
    key_fp = fingerprint(pub)
    if trusted_key is not None and fingerprint(trusted_key) != key_fp:
        return VerifyReport(False, "signed with a key other than the trusted one", PUBLIC_KEY, 0, key_fp)
    try:
        signature = base64.b64decode(signature_b64.strip(), validate=True)
    except ValueError:
        return VerifyReport(False, "signature is not base64", SIGNATURE, 0, key_fp)
    if not verify_signature(pub, signature, manifest_bytes):
        return VerifyReport(False, "signature does not match the manifest", MANIFEST, 0, key_fp)
    try:
        manifest = json.loads(manifest_bytes)
        listed = [(str(f["path"]), str(f["sha256"]), int(f["size"])) for f in manifest["files"]]
    except (ValueError, KeyError, TypeError) as exc:
        return VerifyReport(False, f"manifest is malformed: {exc}", MANIFEST, 0, key_fp)
    if manifest.get("format") != FORMAT:
        return VerifyReport(False, f"unknown bundle format {manifest.get('format')!r}", MANIFEST, 0, key_fp)
    limit = config.max_decompressed_bytes
    total = 0
    for name, sha, size in listed:
        member = by_name.get(name)
        if member is None:
            return VerifyReport(False, "listed in the manifest but missing", name, 0, key_fp)
        if size > limit or member.file_size != size:
            return VerifyReport(False, f"size differs from the manifest ({member.file_size} != {size})", name)
        total += size
        if total > limit:
            return VerifyReport(False, f"bundle larger than {limit} bytes uncompressed", name)
        try:
            got = _hash_bounded(zf, member, size)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            return VerifyReport(False, f"damaged: {exc}", name, 0, key_fp)
        if got is None or got[0] != sha or got[1] != size:
            return VerifyReport(False, "SHA-256 differs from the manifest", name, 0, key_fp)
    extra = sorted(set(by_name) - {n for n, _, _ in listed} - set(CONTROL))
    if extra:
        return VerifyReport(False, "not listed in the manifest", extra[0], 0, key_fp)
    return VerifyReport(True, "intact", None, len(listed), key_fp)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | VerifyReport:
    if info.file_size > limit:
        return VerifyReport(False, f"larger than {limit} bytes", info.filename)
    try:
        data = _read_bounded(zf, info, limit)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        return VerifyReport(False, f"damaged: {exc}", info.filename)
    if data is None:
        return VerifyReport(False, f"larger than {limit} bytes", info.filename)
    return data
