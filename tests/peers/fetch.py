"""Fetch the peer projects' test corpora (sdists from PyPI, pinned by version and SHA-256) into a cache.

``make test`` runs it before pytest (``make peers``); the corpus tests (``tests/test_sources_corpus.py``)
read the unpacked files from ``.cache/peers/<name>-<version>/``. It uses pip, the ordinary PyPI client,
so it works wherever the dev dependencies install. Run by hand: ``.venv/bin/python tests/peers/fetch.py``.

What each sdist brings (licence, which allows using the files as test data):

- feedparser 6.0.14 (BSD-2-Clause): ``tests/`` – some 2,400 well-formed and ill-formed RSS/Atom/RDF feeds;
- Pillow 13.0.0 (MIT-CMU / HPND): ``Tests/images/`` – images in every format Pillow reads, broken APNGs,
  BigTIFF, the BMP suite (good, questionable and bad).

warcio's and twarc's sdists carry no test data; their formats are written by the libraries themselves in
the tests (warcio's writer) or to their documented layout (twarc2 pages), and CPython's e-mail/mailbox
data is committed under ``tests/data/peers/cpython`` (PSF licence).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

CACHE = Path(os.environ.get("VIGIL_PEERS_CACHE", Path(__file__).resolve().parents[2] / ".cache" / "peers"))

#: name -> (version, sha256 of the sdist, members to unpack: path prefixes inside the sdist)
PINS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "feedparser": (
        "6.0.14",
        "088679b0c4b543ee211a820dd544698c76a402122eae7473c04a43425f283d06",
        ("tests/", "LICENSE"),
    ),
    "pillow": (
        "13.0.0",
        "cdcd1ba258178f7356d74170c9a81ba4eab6a5d55748bc402a5a2a6fe6be3510",
        ("Tests/images/", "LICENSE"),
    ),
}


def folder(name: str) -> Path:
    version = PINS[name][0]
    return CACHE / f"{name}-{version}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(name: str) -> Path:
    """The unpacked corpus of ``name``, downloaded and checked first if it is not cached yet (one process
    at a time: test workers that ask together wait for the first)."""
    target = folder(name)
    if (target / ".complete").is_file():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f".{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / ".complete").is_file():
            _download(name, target)
    return target


def _download(name: str, target: Path) -> None:
    version, sha, members = PINS[name]
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             f"{name}=={version}", "-d", tmp],
            check=True,
        )  # fmt: skip
        found = [p for p in Path(tmp).iterdir() if p.name.endswith(".tar.gz")]
        if len(found) != 1:
            raise SystemExit(f"{name}: expected one sdist, found {[p.name for p in found]}")
        got = _sha256(found[0])
        if got != sha:
            raise SystemExit(f"{name}=={version}: sha256 {got} is not the pinned {sha}")
        with tarfile.open(found[0]) as tar:
            root = tar.getmembers()[0].name.split("/", 1)[0]
            chosen = []
            for member in tar.getmembers():
                rel = member.name.split("/", 1)[1] if "/" in member.name else ""
                if member.isfile() and rel.startswith(members):
                    member.name = rel
                    chosen.append(member)
            tar.extractall(target, members=chosen, filter="data")
        del root
    (target / ".complete").write_text(f"{name}=={version} {sha}\n")


def main() -> None:
    for name in PINS:
        print(f"{name}: {fetch(name)}")


if __name__ == "__main__":
    main()
