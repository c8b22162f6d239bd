"""``vigil classify``, ``vigil evaluate`` and ``vigil train text``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from vigil.errors import UsageError, VigilError

train_app = typer.Typer(help="Train the shipped models from labelled data.", no_args_is_help=True)


def classify(
    file: Annotated[str, typer.Argument(help='JSON Lines with "id" and "text"; \'-\' for stdin.')],
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", "-t", help="Label 1 at or above this score (default: the model's)."),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Records per batch (memory is bounded by it).")] = 2000,
    model_dir: Annotated[Path | None, typer.Option(help="Model folder (default: the shipped one).")] = None,
    bank: Annotated[
        Path | None,
        typer.Option(
            help="Text bank JSONL for the second stage (default: $VIGIL_HOME/textbank.jsonl if present)."
        ),
    ] = None,
) -> None:
    """Classify posts: one JSON line out per line in, in order: id, score, label, lang, reasons, outlets."""
    from vigil.cli.common import err, load_config
    from vigil.text.classify import classify_stream
    from vigil.text.model import TextModel
    from vigil.text.outlets import OutletMatcher, load_registry

    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise UsageError("--threshold must be between 0 and 1")
    if batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    model = TextModel.load(model_dir)
    home = load_config().home
    matcher = OutletMatcher(load_registry(home))
    if bank is not None and not bank.is_file():
        raise UsageError(f"{bank}: no such bank file")
    from vigil.text.bank import TextBank, default_bank

    text_bank = TextBank.load(bank) if bank is not None else default_bank(home)
    if file == "-":
        stream = sys.stdin
        summary = classify_stream(
            stream,
            sys.stdout,
            model,
            matcher,
            threshold,
            batch_size,
            lambda m: err.print(f"vigil classify: <stdin> {m}", markup=False),
            text_bank,
        )
    else:
        path = Path(file)
        if not path.is_file():
            raise UsageError(f"{file}: no such file")
        with path.open(encoding="utf-8", errors="replace") as fh:
            summary = classify_stream(
                fh,
                sys.stdout,
                model,
                matcher,
                threshold,
                batch_size,
                lambda m: err.print(f"vigil classify: {file} {m}", markup=False),
                text_bank,
            )
    if summary.errors:
        raise VigilError(
            f"{len(summary.errors)} of {summary.records} records were bad "
            "(error lines written in their place)"
        )


def evaluate(
    files: Annotated[list[Path], typer.Argument(help='Labelled JSON Lines ("id", "text", "label").')],
    threshold: Annotated[float | None, typer.Option("--threshold", "-t")] = None,
    plot: Annotated[Path, typer.Option(help="Where to write the reliability plot.")] = Path(
        "calibration.png"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as one JSON object.")] = False,
    model_dir: Annotated[Path | None, typer.Option(help="Model folder (default: the shipped one).")] = None,
) -> None:
    """Precision, recall, F1 per language and per source, FP rate on negatives, and a reliability plot."""
    from vigil.cli.common import err, print_json
    from vigil.models.evaluate import evaluate_files, render

    result = evaluate_files(files, threshold, plot, model_dir)
    if as_json:
        print_json(result)
    else:
        err.print(render(result), markup=False, highlight=False)
        err.print(f"reliability plot: {plot}")


@train_app.command("text")
def train_text(
    data: Annotated[
        Path | None,
        typer.Option(help="Folder of labelled *.jsonl (default: $VIGIL_DATA/text or ../shared/data/text)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Where to write the model (default: the package's models/text).")
    ] = None,
    c: Annotated[
        float, typer.Option("--C", help="Inverse L2 regularisation of the logistic regression.")
    ] = 4.0,
    extra: Annotated[
        list[Path] | None,
        typer.Option(
            help="More folders of labelled *.jsonl (repeatable), e.g. the Arabic negatives that "
            "tools/arabic_negatives builds."
        ),
    ] = None,
    noisy_account: Annotated[
        list[str] | None,
        typer.Option(
            help="SOURCE:ACCOUNT whose per-account labels are wrong for most rows: not trained on, "
            "reported apart (repeatable; replaces the built-in list; 'none' for no account)."
        ),
    ] = None,
) -> None:
    """Train the first-stage text model; writes the weights, the calibration and MODEL_CARD.md."""
    from vigil.cli.common import RichProgress, err
    from vigil.models.model_card import write_model_card
    from vigil.models.train_text import NOISY_ACCOUNTS, Options, train
    from vigil.text.corpus import default_data_dir
    from vigil.text.model import default_model_dir

    data_dir = data or default_data_dir()
    out_dir = out or default_model_dir()
    with RichProgress(total=6, label="steps") as progress:

        def step(name: str, done: int, total: int) -> None:
            progress.task(name)

        noisy = tuple(noisy_account) if noisy_account is not None else tuple(NOISY_ACCOUNTS)
        opts = Options(c=c, extra=tuple(extra or ()), noisy_accounts=tuple(a for a in noisy if a != "none"))
        report = train(data_dir, out_dir, opts, step)
        progress.advance(6)
    write_model_card(out_dir, report, data_dir, tuple(extra or ()))
    err.print(f"model written to {out_dir} (threshold {report['threshold']})")


def register(app: typer.Typer) -> None:
    app.command()(classify)
    app.command()(evaluate)
    app.add_typer(train_app, name="train")
