"""The CLI contract external checks use: vigil hash, vigil bank ..., vigil match (one JSON line each)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import SHARED_DATA
from vigil.store import Store

VIGIL = [sys.executable, "-m", "vigil"]
PDQ = SHARED_DATA / "media" / "pdq" / "data"
DIH = PDQ / "reg-test-input" / "dih"


def run(args: list[str], home: Path, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIGIL_HOME": str(home)}
    env.pop("VIGIL_DATABASE_URL", None)
    if database_url and not database_url.startswith("sqlite"):
        env["VIGIL_DATABASE_URL"] = database_url
    return subprocess.run([*VIGIL, *args], env=env, capture_output=True, text=True, timeout=300)


def lines(out: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_hash_prints_one_line_per_file(home: Path, tmp_path: Path) -> None:
    doc = tmp_path / "notes.txt"
    doc.write_text("A neutral placeholder paragraph about the weather. " * 20, "utf-8")
    missing = tmp_path / "missing.jpg"
    out = run(["hash", str(DIH / "bridge-1-original.jpg"), str(doc), str(missing)], home)
    assert out.returncode == 1  # the missing file
    image, text, gone = lines(out.stdout)
    assert image["kind"] == "image" and len(image["pdq"]) == 64 and image["pdq_quality"] == 100
    assert len(image["sha256"]) == 64 and len(image["md5"]) == 32
    assert text["kind"] == "document" and text["tlsh"] and text["pdq"] is None
    assert gone["error"] == "no such file"


def test_bank_import_add_match(home: Path, tmp_path: Path, store: Store, database_url: str) -> None:
    assert run(["bank", "create", "hay", "--threshold", "31"], home, database_url).returncode == 0
    assert run(["bank", "create", "benign", "--negative"], home, database_url).returncode == 0
    assert run(["bank", "create", "hay"], home, database_url).returncode == 2  # exists
    imported = run(
        ["bank", "import", "hay", str(PDQ / "reg-test-input" / "haystack.txt")], home, database_url
    )
    assert imported.returncode == 0, imported.stderr
    assert lines(imported.stdout)[0]["added"] == 1350
    added = run(
        [
            "bank",
            "add",
            "hay",
            str(DIH / "bridge-1-original.jpg"),
            "--meta",
            "outlet=Outlet A",
            "--meta",
            "labels=a,b",
        ],
        home,
        database_url,
    )
    assert added.returncode == 0, added.stderr
    listing = {b["name"]: b for b in lines(run(["bank", "list"], home, database_url).stdout)}
    assert listing["hay"]["entries"] == 1352 and listing["benign"]["negative"] is True

    hash_file = tmp_path / "queries.txt"
    needles = (PDQ / "reg-test-input" / "needles.txt").read_text().split()
    hash_file.write_text("\n".join([needles[0], "zz-not-a-hash", "0123456789abcdef" * 4]) + "\n")
    matched = run(["match", "--bank", "hay", "--hash-file", str(hash_file)], home, database_url)
    assert matched.returncode == 1  # one bad line
    first, bad, unrelated = lines(matched.stdout)
    assert first["query"] == needles[0] and first["matches"][0]["distance"] == 0
    assert set(first["matches"][0]) >= {"bank", "entry_id", "distance", "meta"}
    assert bad["line"] == 2 and "error" in bad and bad["matches"] == []
    assert unrelated["matches"] == []
    assert "line 2" in matched.stderr

    rotated = run(["match", str(DIH / "bridge-3-rotate-180.jpg")], home, database_url)
    assert rotated.returncode == 0, rotated.stderr
    [res] = lines(rotated.stdout)
    hits = [m for m in res["matches"] if m["signal_type"] == "pdq"]
    assert hits and hits[0]["meta"]["outlet"] == "Outlet A" and hits[0]["meta"]["labels"] == ["a", "b"]

    # The same image in the negative bank suppresses the hit.
    assert (
        run(["bank", "add", "benign", str(DIH / "bridge-1-original.jpg")], home, database_url).returncode == 0
    )
    [res] = lines(run(["match", str(DIH / "bridge-3-rotate-180.jpg")], home, database_url).stdout)
    assert res["matches"] == [] and res["suppressed"] and res["negative"]

    # Disable an entry: gone from the next match, at once.
    entry = first["matches"][0]["entry_id"]
    assert run(["bank", "disable", str(entry)], home, database_url).returncode == 0
    hash_file.write_text(needles[0] + "\n")
    [again] = lines(run(["match", "--bank", "hay", "--hash-file", str(hash_file)], home, database_url).stdout)
    assert entry not in [m["entry_id"] for m in again["matches"]]

    exported = run(["bank", "export", "hay", "--format", "tat-json"], home, database_url)
    doc = json.loads(exported.stdout)
    assert len(doc["hashes"]) == 1351  # the disabled one is left out
    assert any(h.get("outlet") == "Outlet A" for h in doc["hashes"])
