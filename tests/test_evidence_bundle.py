"""Export a signed bundle and verify it; any changed byte, missing manifest or hostile entry is caught."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.evidence_helpers import make_case, run_cli, write_local_config
from tests.local_servers import Page, dns_server, web_server
from vigil.boot import open_store
from vigil.config import Config
from vigil.evidence.bundle import verify_bundle
from vigil.evidence.signing import public_pem
from vigil.store import Store

PAGE = b"<html><body><article><p>A neutral placeholder paragraph for bundles.</p></article></body></html>"


def _flip_byte_in_member(bundle: Path, member: str) -> None:
    with zipfile.ZipFile(bundle) as zf:
        info = zf.getinfo(member)
        offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data = bytearray(bundle.read_bytes())
    data[offset + info.compress_size // 2] ^= 0x01
    bundle.write_bytes(bytes(data))


def test_capture_export_verify_and_tamper(tmp_path: Path, home: Path, config: Config) -> None:
    """The acceptance path through the real command line (SQLite; both stores run the same core below)."""
    store = open_store(config)
    with web_server() as web, dns_server() as dns:
        dns.zone["pages.test"] = {"A": ["127.0.0.1"]}
        web.pages["/p"] = Page(200, PAGE)
        write_local_config(home, dns.address)
        url = web.url("/p", host="pages.test")
        case_id = make_case(store, url)
        got = run_cli(["evidence", "capture", url, "--case", str(case_id)], home)
        assert got.returncode == 0, got.stderr
        capture = json.loads(got.stdout)
        assert capture["status_code"] == 200
    bundle = tmp_path / "case.zip"
    got = run_cli(["evidence", "export", str(case_id), "--out", str(bundle)], home)
    assert got.returncode == 0, got.stderr
    assert (home / "keys" / "evidence_ed25519.pem").exists()
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))
        history = json.loads(zf.read("case/history.json"))
    warc_name = f"captures/{capture['id']}/capture.warc.gz"
    assert warc_name in names and "case/history.json" in names
    assert {f["path"] for f in manifest["files"]} == set(names) - {
        "manifest.json",
        "manifest.sig",
        "public_key.pem",
    }
    assert history["events"][-1]["reason"] == "evidence captured"
    ok = run_cli(["evidence", "verify", str(bundle)], home)
    assert ok.returncode == 0 and ok.stdout.startswith("intact"), ok.stdout + ok.stderr
    _flip_byte_in_member(bundle, warc_name)
    bad = run_cli(["evidence", "verify", str(bundle)], home)
    store.close()
    assert bad.returncode != 0
    assert warc_name in bad.stdout and not bad.stdout.startswith("intact")


def _write_zip(path: Path, entries: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


def _signed_bundle(tmp_path: Path, config: Config, store: Store) -> Path:
    from vigil.evidence.bundle import export_bundle

    case_id = make_case(store, "http://example.invalid/x")
    out = tmp_path / "b.zip"
    export_bundle(store, config, case_id, out)
    return out


def test_manifest_signature_and_extra_files(tmp_path: Path, config: Config, store: Store) -> None:
    good = _signed_bundle(tmp_path, config, store)
    assert verify_bundle(good, config).ok
    with zipfile.ZipFile(good) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    # a manifest edited after signing
    manifest = json.loads(entries["manifest.json"])
    manifest["case_id"] = 999
    forged = tmp_path / "forged.zip"
    _write_zip(forged, {**entries, "manifest.json": json.dumps(manifest).encode()})
    report = verify_bundle(forged, config)
    assert not report.ok and report.file == "manifest.json" and "signature" in report.message
    # a file nobody signed for
    extra = tmp_path / "extra.zip"
    _write_zip(extra, {**entries, "captures/9/smuggled.txt": b"x"})
    report = verify_bundle(extra, config)
    assert not report.ok and report.file == "captures/9/smuggled.txt"
    # no manifest at all
    bare = tmp_path / "bare.zip"
    _write_zip(bare, {k: v for k, v in entries.items() if k != "manifest.json"})
    report = verify_bundle(bare, config)
    assert not report.ok and report.file == "manifest.json" and "missing" in report.message
    # pinned to another key
    other = public_pem(Ed25519PrivateKey.generate())
    assert not verify_bundle(good, config, trusted_key=other).ok


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/passwd", "a/../../b", "C:/win.txt", "a\\b.txt"])
def test_unsafe_names_are_refused(tmp_path: Path, config: Config, name: str) -> None:
    path = tmp_path / "hostile.zip"
    _write_zip(path, {name: b"x", "manifest.json": b"{}", "manifest.sig": b"", "public_key.pem": b""})
    report = verify_bundle(path, config)
    assert not report.ok and report.file == name and "unsafe" in report.message


def test_zip_bomb_is_refused_without_inflating_it(tmp_path: Path, config: Config) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", b"\0" * (64 * 1024**2))
        zf.writestr("manifest.sig", b"")
        zf.writestr("public_key.pem", b"")
    assert path.stat().st_size < 1024**2
    report = verify_bundle(path, config)
    assert not report.ok and report.file == "manifest.json" and "larger" in report.message


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes_never_verify(tmp_path: Path, config: Config, data: bytes) -> None:
    path = tmp_path / "junk.zip"
    path.write_bytes(data)
    report = verify_bundle(path, config)
    assert not report.ok and report.message


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=1, max_value=2000))
def test_truncated_bundles_never_verify(tmp_path: Path, config: Config, cut: int) -> None:
    from vigil.evidence.signing import load_or_create_key

    key = load_or_create_key(config)
    manifest = json.dumps(
        {"format": "vigil-evidence-bundle/1", "files": [{"path": "a", "sha256": "0" * 64, "size": 1}]}
    )
    full = tmp_path / "full.zip"
    _write_zip(
        full,
        {
            "manifest.json": manifest.encode(),
            "manifest.sig": __import__("base64").b64encode(key.sign(manifest.encode())),
            "public_key.pem": public_pem(key),
            "a": b"x",
        },
    )
    data = full.read_bytes()
    short = tmp_path / "short.zip"
    short.write_bytes(data[: max(0, len(data) - cut)])
    assert not verify_bundle(short, config).ok
