"""``vigil evaluate``: metrics of the shipped model on labelled files, and a reliability plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vigil.models.metrics import grouped
from vigil.text.corpus import read_labelled
from vigil.text.model import TextModel


def reliability_plot(
    labels: list[int], scores: list[float], path: Path, bins: int = 10
) -> list[dict[str, Any]]:
    """Write a reliability diagram (mean score vs observed positive rate per score bin) as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, s in enumerate(scores) if lo <= s < hi or (b == bins - 1 and s == 1.0)]
        if idx:
            table.append(
                {
                    "bin": f"{lo:.1f}-{hi:.1f}",
                    "n": len(idx),
                    "mean_score": round(sum(scores[i] for i in idx) / len(idx), 4),
                    "positive_rate": round(sum(labels[i] for i in idx) / len(idx), 4),
                }
            )
    fig, (ax, hist) = plt.subplots(2, 1, figsize=(5, 6), height_ratios=[3, 1], sharex=True)
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfectly calibrated")
    ax.plot([t["mean_score"] for t in table], [t["positive_rate"] for t in table], "o-", label="vigil text")
    ax.set_ylabel("observed share of positives")
    ax.set_title("Reliability of vigil classify scores")
    ax.legend(loc="upper left")
    hist.hist(scores, bins=bins, range=(0, 1), color="tab:blue")
    hist.set_xlabel("score")
    hist.set_ylabel("posts")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return table


def evaluate_files(
    files: list[Path], threshold: float | None, plot: Path, model_dir: Path | None = None
) -> dict[str, Any]:
    model = TextModel.load(model_dir)
    labels: list[int] = []
    scores: list[float] = []
    preds: list[int] = []
    langs: list[str] = []
    sources: list[str] = []
    for f in files:
        rows = read_labelled(f)
        for start in range(0, len(rows), 2000):
            chunk = rows[start : start + 2000]
            for row, v in zip(chunk, model.classify([r.text for r in chunk], threshold), strict=True):
                labels.append(row.label)
                scores.append(v.score)
                preds.append(v.label)
                langs.append(v.lang)
                sources.append(row.source)
    result: dict[str, Any] = grouped(labels, preds, {"lang": langs, "source": sources})
    result["threshold"] = model.threshold if threshold is None else threshold
    result["reliability"] = reliability_plot(labels, scores, plot)
    result["plot"] = str(plot)
    return result


def render(result: dict[str, Any]) -> str:
    lines = [f"threshold {result['threshold']}"]
    header = f"{'':24} {'n':>7} {'pos':>6} {'prec':>6} {'recall':>6} {'F1':>6} {'FP rate':>7}"
    for kind in ("all", "lang", "source"):
        lines += ["", f"per {kind}" if kind != "all" else "overall", header]
        for key, m in result[kind].items():
            lines.append(
                f"{key[:24]:24} {m['n']:>7} {m['positives']:>6} {m['precision']:>6.3f} "
                f"{m['recall']:>6.3f} {m['f1']:>6.3f} {m['fp_rate']:>7.4f}"
            )
    return "\n".join(lines)
