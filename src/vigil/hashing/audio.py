"""Audio fingerprints with Chromaprint's ``fpcalc`` and a similarity that tolerates re-encoding and a
time offset (the best bit agreement over shifted alignments)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np

from vigil.errors import RecordError

MAX_SHIFT = 40  # fingerprint items (about 5 s) either way
MIN_OVERLAP = 8


def fingerprint(path: Path, max_seconds: int = 600, timeout: float = 120.0) -> list[int]:
    exe = shutil.which("fpcalc")
    if exe is None:
        raise RecordError("audio fingerprinting needs fpcalc (Debian libchromaprint-tools)")
    try:
        run = subprocess.run(
            [exe, "-raw", "-json", "-length", str(max_seconds), str(path)],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RecordError("fpcalc timed out") from exc
    # fpcalc exits non-zero on a decoding error near the end of a file but still prints what it read.
    try:
        data = json.loads(run.stdout)
        found = [int(v) & 0xFFFFFFFF for v in data["fingerprint"]]
    except (ValueError, KeyError, TypeError):
        found = []
    if not found:
        reason = run.stderr.decode("utf-8", "replace").strip()[:200] or "no fingerprint"
        raise RecordError(f"not readable audio: {reason}")
    return found


def encode(fp: list[int]) -> str:
    return ",".join(str(v) for v in fp)


def decode(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v]


def similarity(a: list[int], b: list[int]) -> float:
    """1 - the lowest bit error rate over alignments shifted by up to ``MAX_SHIFT`` items."""
    x = np.asarray(a, dtype=np.uint32)
    y = np.asarray(b, dtype=np.uint32)
    best = 0.0
    for shift in range(-MAX_SHIFT, MAX_SHIFT + 1):
        xs, ys = (x[shift:], y) if shift >= 0 else (x, y[-shift:])
        n = min(len(xs), len(ys))
        if n < MIN_OVERLAP:
            continue
        errors = int(np.bitwise_count(xs[:n] ^ ys[:n]).sum())
        best = max(best, 1.0 - errors / (32.0 * n))
    return best
