"""``vigil classify`` and ``vigil evaluate`` through the real command line, on the shared data."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from vigil.text.model import TextModel
from vigil.text.obfuscate import obfuscate

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "text"


def _rows(name: str, n: int) -> list[dict[str, object]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for _, line in zip(range(n), fh, strict=False)]


def _vigil(
    args: list[str], stdin: str | None = None, home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if home:
        env["VIGIL_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "vigil", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_classify_writes_one_line_per_record_in_order(tmp_path: Path) -> None:
    rows = _rows("isextreme_validation.jsonl", 60) + _rows("arabic_general_tweets.jsonl", 40)
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": r["id"], "text": r["text"], "extra": 1}) + "\n" for r in rows))
    proc = _vigil(["classify", str(src), "--batch-size", "7"], home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["id"] for o in out] == [r["id"] for r in rows]
    for o in out:
        assert set(o) == {"id", "score", "label", "lang", "reasons", "outlets"}
        assert 0.0 <= o["score"] <= 1.0 and o["label"] in (0, 1)
    assert {o["lang"] for o in out[60:]} >= {"ar"}
    # --threshold 0 flags everything, 1 almost nothing; stdin works the same as a file
    low = _vigil(["classify", "--threshold", "0", "-"], stdin=src.read_text(), home=tmp_path)
    assert all(json.loads(line)["label"] == 1 for line in low.stdout.splitlines())


def test_bad_lines_yield_error_lines_in_place_and_exit_1(tmp_path: Path) -> None:
    good = {"id": "a", "text": "a neutral placeholder sentence"}
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps([1, 2]),
        json.dumps({"id": "c"}),
        json.dumps({"text": "no id"}),
        json.dumps({"id": "d", "text": "another placeholder"}),
    ]
    proc = _vigil(["classify", "-"], stdin="\n".join(lines) + "\n", home=tmp_path)
    assert proc.returncode == 1
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(out) == 6
    assert [("error" in o) for o in out] == [False, True, True, True, True, False]
    assert out[3] == {"id": "c", "error": 'missing "text" (a string)', "line": 4}
    assert "score" not in out[1] and "label" not in out[1]
    for n in (2, 3, 4, 5):
        assert f"line {n}:" in proc.stderr
    assert "4 of 6 records were bad" in proc.stderr


def test_usage_errors(tmp_path: Path) -> None:
    assert _vigil(["classify", str(tmp_path / "missing.jsonl")], home=tmp_path).returncode == 2
    assert _vigil(["classify", "--threshold", "2", "-"], stdin="", home=tmp_path).returncode == 2


def test_evaluate_prints_metrics_and_writes_a_reliability_png(tmp_path: Path) -> None:
    src = tmp_path / "eval.jsonl"
    rows = _rows("isextreme_validation.jsonl", 150) + _rows("sib200.jsonl", 50)
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    plot = tmp_path / "rel.png"
    proc = _vigil(["evaluate", str(src), "--plot", str(plot), "--json"], home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["all"]["all"]["n"] == 200
    assert {"isextreme/validation", "sib200"} <= set(result["source"])
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def model() -> TextModel:
    return TextModel.load()


def test_recall_on_obfuscated_positives_is_at_least_95_percent_of_clean(model: TextModel) -> None:
    positives = [r for r in _rows("isextreme_validation.jsonl", 2552) if r["label"] == 1]
    positives += [r for r in _rows("fifth_tribe.jsonl", 600)][::3]
    texts = [str(r["text"]) for r in positives]
    rng = random.Random(3)
    clean = sum(v.label for v in model.classify(texts))
    dirty = sum(v.label for v in model.classify([obfuscate(t, rng) for t in texts]))
    assert clean > 0.2 * len(texts)
    assert dirty >= 0.95 * clean


def test_untrained_language_is_never_flagged_alone(model: TextModel) -> None:
    texts = ["Dies ist ein neutraler Platzhaltertext über Nachrichten, Politik und das Wetter in Europa."] * 3
    for v in model.classify(texts, threshold=None):
        assert v.lang == "de" and v.label == 0 and v.score <= model.untrained_cap
