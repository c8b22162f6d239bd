"""Features, the account-grouped split, metrics, the text bank and the scan detectors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vigil.errors import ConfigError, RecordError
from vigil.models.metrics import Counts, best_f1_threshold, grouped
from vigil.models.text_split import assign_folds
from vigil.models.train_text import mix_weights, weighted_metrics
from vigil.text.bank import TextBank
from vigil.text.corpus import read_labelled
from vigil.text.features import content_text, featurise, linear_scores
from vigil.text.model import TextModel
from vigil.text.normalise import normalise

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "text"


def test_content_text_strips_style_cues() -> None:
    norm = normalise("RT @someone: Hello   world!! 🙂 #topic https://t.co/abc 2019").text
    assert content_text(norm) == "hello world topic"


def test_features_do_not_depend_on_batch_composition() -> None:
    texts = ["a neutral placeholder", "another neutral line of text", "", "نص عربي محايد"]
    dim = 1 << 16
    w = np.random.default_rng(0).normal(size=dim).astype(np.float32)
    together = linear_scores(featurise(texts, dim), w, 0.1)
    alone = [linear_scores(featurise([t], dim), w, 0.1)[0] for t in texts]
    assert np.allclose(together, alone)
    assert together[2] == pytest.approx(0.1)  # an empty text has no features: just the bias


def test_split_keeps_accounts_on_one_side_and_flags_cross_fold_near_duplicates() -> None:
    groups = ["acct1", "acct1", "acct2", "acct3", "acct4"]
    contents = [
        "one two three four five six seven eight nine",
        "x y",
        "p q",
        "one two three four five six seven eight other",
        "z",
    ]
    folds, leaked = assign_folds(groups, contents, n_folds=5)
    assert folds[0] == folds[1]
    assert leaked[0] == leaked[3] == (folds[0] != folds[3])
    assert not leaked[2] and not leaked[4]
    assert assign_folds(groups, contents, 5) == (folds, leaked)  # deterministic


def test_real_data_split_has_no_account_on_two_sides() -> None:
    rows = read_labelled(DATA / "isextreme_validation.jsonl")
    groups = [r.account or r.id for r in rows]
    folds, _ = assign_folds(groups, [content_text(normalise(r.text).text) for r in rows])
    where: dict[str, set[int]] = {}
    for g, f in zip(groups, folds, strict=True):
        where.setdefault(g, set()).add(f)
    assert all(len(v) == 1 for v in where.values())
    assert len(set(folds)) == 5


def test_metrics() -> None:
    c = Counts()
    for y, p in [(1, 1), (1, 0), (0, 1), (0, 0), (0, 0)]:
        c.add(y, p)
    assert (c.precision, c.recall, c.f1) == (0.5, 0.5, 0.5)
    assert c.fp_rate == pytest.approx(1 / 3)
    g = grouped([1, 0, 1], [1, 0, 0], {"lang": ["en", "en", "ar"]})
    assert g["lang"]["ar"]["recall"] == 0.0 and g["lang"]["en"]["f1"] == 1.0
    assert best_f1_threshold([0, 1, 1, 0], [0.1, 0.8, 0.7, 0.2]) == 0.7


def test_corpus_reader_reports_the_bad_line(tmp_path: Path) -> None:
    f = tmp_path / "x.jsonl"
    f.write_text(json.dumps({"id": "1", "text": "ok", "label": 0}) + "\n" + '{"id": "2", "text": "x"}\n')
    with pytest.raises(RecordError, match=r"x\.jsonl:2"):
        read_labelled(f)


def test_bank_matches_obfuscated_near_duplicates_only() -> None:
    with (DATA / "isextreme_validation.jsonl").open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh][:200]
    long_rows = [r for r in rows if len(r["text"].split()) > 12][:20]
    bank = TextBank()
    for r in long_rows[:10]:
        bank.add(r["id"], r["text"])
    assert len(bank) == 10
    target = long_rows[0]["text"].replace("e", "3").replace("a", "а") + " extra"
    match = bank.best_match(content_text(normalise(target).text))
    assert match is not None and match[0] == long_rows[0]["id"] and match[1] >= 0.6
    for r in long_rows[10:]:
        assert bank.best_match(content_text(normalise(r["text"]).text)) is None


def test_scan_uses_the_text_detectors_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vigil.config import Config
    from vigil.detect import DEFAULT_DETECTORS, load_detectors
    from vigil.detect.context import DetectorContext

    monkeypatch.setenv("VIGIL_HOME", str(tmp_path))
    assert {"text", "outlets"} <= set(DEFAULT_DETECTORS)
    detectors = {d.name: d for d in load_detectors(DetectorContext(Config.load()))}
    from vigil.core.model import Item

    items = [
        Item(id="i1", source="test", text="A placeholder note naming the Amaq News Agency."),
        Item(id="i2", source="test", text=""),
    ]
    signals = detectors["outlets"].detect(items)
    assert [s.item_id for s in signals] == ["i1"] and signals[0].hit
    assert signals[0].reasons[0].start is not None
    text_signals = detectors["text"].detect(items)
    assert [s.item_id for s in text_signals] == ["i1"]
    assert 0.0 <= text_signals[0].score <= 1.0 and text_signals[0].meta["lang"] == "en"


def test_weighted_best_f1_threshold_follows_the_weights() -> None:
    labels, scores = [1, 0, 1, 0], [0.9, 0.8, 0.6, 0.3]
    assert best_f1_threshold(labels, scores) == 0.6
    # The negative at 0.8 weighs so much that only the top positive is worth flagging.
    assert best_f1_threshold(labels, scores, [1.0, 50.0, 1.0, 1.0]) == 0.9


def test_mix_weights_give_the_prevalence_and_equal_kinds() -> None:
    labels = np.asarray([1, 1, 0, 0, 0, 0, 0])
    kinds = np.asarray(["p", "p", "chatter", "chatter", "chatter", "chatter", "poetry"])
    w = mix_weights(labels, kinds, 0.3)
    assert w[labels == 1].sum() / w.sum() == pytest.approx(0.3)
    assert w[kinds == "chatter"].sum() == pytest.approx(w[kinds == "poetry"].sum())


def test_arabic_mix_metrics_weigh_each_kind_of_negative_equally() -> None:
    y = np.asarray([1, 1, 0, 0, 0, 0])
    preds = np.asarray([1, 0, 1, 0, 0, 0])
    kinds = np.asarray(["p", "p", "poetry", "chatter", "chatter", "chatter"])
    m = weighted_metrics(y, preds, mix_weights(y, kinds, 0.3))
    # One poetry negative of one is flagged: half the negative weight (poetry is one of two kinds).
    assert m["fp_rate"] == pytest.approx(0.5)
    assert m["recall"] == pytest.approx(0.5)


def test_model_with_an_expert_blends_it_for_its_languages_only(tmp_path: Path) -> None:
    dim = 1 << 12
    general = np.zeros(dim, dtype=np.float16)
    expert = np.ones(dim, dtype=np.float16)
    meta = {"dim": dim, "bias": 0.0, "expert_bias": 0.0, "blend": {"en": 0.5}, "threshold": 0.5,
            "calibration": {"*": [1.0, 0.0]}, "trained_langs": ["en"]}  # fmt: skip
    (tmp_path / "first_stage.json").write_text(json.dumps(meta), "utf-8")
    np.savez(tmp_path / "first_stage.npz", weights=general, expert=expert)
    model = TextModel.load(tmp_path)
    z = model.decisions(["placeholder words", "placeholder words"], ["en", "fr"])
    assert z[0] > 0 and z[1] == 0.0
    np.savez(tmp_path / "first_stage.npz", weights=general)
    with pytest.raises(ConfigError, match="expert"):
        TextModel.load(tmp_path)


def test_language_id_tells_arabic_from_persian_by_the_raw_letters() -> None:
    from vigil.text.langid import detect_languages

    persian = "\u0627\u06cc\u0646 \u06cc\u06a9 \u0645\u062a\u0646 \u0627\u0633\u062a"  # Persian yeh and keheh
    folded = normalise(persian).text  # the normaliser folds them onto Arabic letters
    assert detect_languages([folded], [persian])[0][0] == "fa"
    # A short Arabic word the model alone places in Persian is Arabic when no Persian letter is in it.
    word = "\u0633\u0644\u0627\u0645"
    assert detect_languages([word])[0][0] == "fa"
    assert detect_languages([word], [word])[0][0] == "ar"


def _toy_corpus(folder: Path) -> None:
    """Neutral placeholder posts: positives talk of fruit, negatives of weather; the account ``noisy`` posts
    weather talk labelled 1 (a per-account label that is wrong for its rows)."""
    import random

    rng = random.Random(7)
    fruit = ["apple", "pear", "plum", "cherry", "melon", "grape", "lemon", "mango", "peach", "berry"]
    weather = ["rain", "cloud", "wind", "storm", "sunny", "cold", "warm", "fog", "snow", "breeze"]
    common = ["the", "a", "today", "we", "saw", "some", "very", "nice", "and"]
    rows = []

    def post(words: list[str]) -> str:
        return " ".join(rng.choice(words + common) for _ in range(12))

    for a in range(8):
        rows += [{"text": post(fruit), "label": 1, "account": f"p{a}"} for _ in range(15)]
        rows += [{"text": post(weather), "label": 0, "account": f"n{a}"} for _ in range(15)]
    rows += [{"text": post(weather), "label": 1, "account": "noisy"} for _ in range(60)]
    folder.mkdir()
    with (folder / "toy.jsonl").open("w", encoding="utf-8") as fh:
        for i, row in enumerate(rows):
            fh.write(json.dumps({"id": f"t{i}", "source": "toy", **row}) + "\n")


def test_noisy_accounts_are_not_trained_on_but_are_reported(tmp_path: Path) -> None:
    from vigil.models.train_text import Options, train

    _toy_corpus(tmp_path / "data")
    weather = "rain cloud wind storm and fog today"
    scores = {}
    for name, noisy in (("left_out", ("toy:noisy",)), ("kept", ())):
        out = tmp_path / name
        report = train(
            tmp_path / "data", out, Options(dim=1 << 12, folds=3, noisy_accounts=noisy), lambda *a: None
        )
        model = TextModel.load(out)
        scores[name] = float(model.decisions([weather])[0])
        accounts = report["noisy_accounts"]["accounts"]
        if noisy:
            assert accounts["toy:noisy"]["held_out_rows"] > 0
            assert accounts["toy:noisy"]["flagged"] < 0.2  # weather talk: rightly not flagged
            assert report["lang_counts"]["en/1"] == 120  # the noisy rows are not among the scored ones
        else:
            assert accounts == {}
            assert report["lang_counts"]["en/1"] > 120
    # trained on the noisy rows, the model learns weather talk as a positive sign
    assert scores["kept"] > scores["left_out"] + 1.0


def test_train_cli_takes_the_noisy_account_list(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vigil.cli import build_app

    _toy_corpus(tmp_path / "data")
    for name, expected in (("toy:noisy", ["toy:noisy"]), ("none", [])):
        out = tmp_path / f"out{len(expected)}"
        args = ["train", "text", "--data", str(tmp_path / "data"), "--out", str(out), "--noisy-account", name]
        result = CliRunner().invoke(build_app(args), args)
        assert result.exit_code == 0, result.output
        report = json.loads((out / "training_report.json").read_text("utf-8"))
        assert list(report["noisy_accounts"]["accounts"]) == expected
        assert "Accounts left out" in (out / "MODEL_CARD.md").read_text("utf-8")
