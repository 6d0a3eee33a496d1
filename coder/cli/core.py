"""train / suggest / evaluate / demo: thin commands over coder.model.pipeline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from coder.cli.options import (
    CodebookOpt,
    DataOpt,
    EncodingOpt,
    ModelDirOpt,
    TargetOpt,
    WideOpt,
    console,
    echo_examples,
    load_codebook,
    model_files,
    progress,
    refuse_other_model,
)
from coder.display import frame_table, metrics_table
from coder.files import check_output
from coder.model.embed import DEFAULT_EMBEDDER


def _load(data: Path, codebook: Path | None, encoding: str, rounds: list[str] | None = None,
          require_codes: bool = False):
    from coder.errors import InputError
    from coder.returns import read_returns

    cb = load_codebook(codebook)
    df = read_returns(data, cb, encoding=encoding, require_codes=require_codes)
    if rounds:
        missing = [r for r in rounds if r not in set(df["round"])]
        if missing:
            raise InputError(f"no rows for round {missing[0]!r} (rounds here: {', '.join(sorted(set(df['round'])))})",
                             file=str(data), column="round")
        df = df[df["round"].isin(rounds)]
    return cb, df


def train(
    data: DataOpt,
    model_dir: ModelDirOpt,
    round_: Annotated[list[str] | None, typer.Option("--round", help="Train on these rounds only.")] = None,
    embedder: Annotated[str, typer.Option(help="sentence-transformers model: name or local path.")] =
    DEFAULT_EMBEDDER,
    target_precision: TargetOpt = None,
    threshold_method: Annotated[str, typer.Option(
        help="shrunk: aim at the target precision (more auto-coded); ltt: guarantee it with probability "
             "1 - delta (Learn-then-Test).")] = "shrunk",
    codebook: CodebookOpt = None,
    encoding: EncodingOpt = "utf-8",
) -> None:
    """Train a model on every answer whose codes are filled in, and save it as a new version.

    Example:
        coder train --data coder/data/returns.csv --round 2013-06 --model-dir models/
    """
    check_output(model_dir, [data, codebook], folder=True, option="--model-dir")
    refuse_other_model(model_dir, "answers")
    cb, df = _load(data, codebook, encoding, round_, require_codes=True)
    # the model stack (torch, skops) loads only once the input is known to be good
    from coder.model import pipeline
    from coder.model.embed import Embedder
    from coder.model.store import read_registry

    read_registry(model_dir)  # a damaged registry is named before hours of training
    with progress() as stage:
        model = pipeline.train(df, cb, model_dir, Embedder(embedder),
                               target_precision=target_precision or pipeline.DEFAULT_TARGET,
                               threshold_method=threshold_method, stage=stage)
    console.print(metrics_table(f"model {model.version}: grouped {model.manifest['metrics']['cv_folds']}-fold "
                                "cross-validation on the training answers", model.manifest["metrics"]))
    echo_examples(model.manifest)
    typer.echo(f"saved model {model.version} to {model_dir}")


def suggest(
    data: DataOpt,
    model_dir: ModelDirOpt,
    out: Annotated[Path, typer.Option("--out", help="Suggestions file to write: CSV, or a workbook (.xlsx; "
                                                    "with --wide, one row per area).")],
    target_precision: TargetOpt = None,
    codebook: CodebookOpt = None,
    encoding: EncodingOpt = "utf-8",
    wide: WideOpt = False,
) -> None:
    """Suggest codes for every answer, with a calibrated confidence and a route (auto / review).

    With --wide the workbook has one row per area: auto-coded answers carry their code, answers routed to
    review an empty code cell with the suggestion in its comment. The sheet "All suggestions" keeps every
    suggestion long-form, so `coder review push` and `coder accept` take the workbook itself.

    Example:
        coder suggest --data coder/data/returns.csv --model-dir models/ --out suggestions.csv
        coder suggest --data coder/data/returns.csv --model-dir models/ --wide --out suggestions.xlsx
    """
    from coder.errors import InputError
    from coder.spreadsheet import write_table

    if wide and out.suffix.lower() != ".xlsx":
        raise InputError("--wide writes a workbook: --out must be an .xlsx file", file=str(out))
    check_output(out, [data, *model_files(model_dir), codebook])
    cb, df = _load(data, codebook, encoding)
    from coder.model import pipeline

    model = pipeline.open_model(model_dir, cb)
    with progress() as stage:
        s = pipeline.suggest(df, model, target_precision=target_precision, stage=stage)
    if wide:
        from coder.review.wide import suggestions_as_accepted, write_wide

        write_wide(suggestions_as_accepted(s), out, title="Suggestions", suggestions=s)
    else:
        write_table(s, out)
    console.print(summary_table(s, model, target_precision))
    from coder.model.guarantee import describe

    if line := describe(model.manifest, target_precision):
        typer.echo(line)
    typer.echo(f"wrote {len(s):,} suggestions to {out}")


def summary_table(s, model, target_precision: float | None) -> Table:
    """How many answers are auto-coded and how many go to review, per round, with the expected precision."""
    from coder.model.pipeline import route_summary

    target = target_precision or model.manifest.get("target_precision", 0.95)
    return frame_table(route_summary(s), f"model {model.version}, target precision {target:.2f}")


def evaluate(
    data: DataOpt,
    model_dir: ModelDirOpt,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    target_precision: TargetOpt = None,
    codebook: CodebookOpt = None,
    encoding: EncodingOpt = "utf-8",
) -> None:
    """Score the model on answers with gold codes: accuracy, macro-F1, auto share and precision, ECE.

    Example:
        coder evaluate --data coder/data/returns.csv --model-dir models/ --json
    """
    from coder.errors import InputError

    cb, df = _load(data, codebook, encoding)
    if not ((df["codes"] != "") & (df["text"] != "")).any():  # named before the model loads
        raise InputError("no coded, non-blank answers to evaluate against", file=str(data), column="codes")
    from coder.model import pipeline

    model = pipeline.open_model(model_dir, cb)
    with progress(transient=True) as stage:
        m = pipeline.evaluate(df, model, target_precision=target_precision, stage=stage)
    if as_json:
        typer.echo(json.dumps(m, indent=2))
    else:
        Console().print(metrics_table(f"model {model.version} on {data}", m))


def demo(
    workdir: Annotated[Path, typer.Option(help="Where the demo writes its model and outputs.")] = Path("demo"),
) -> None:
    """The whole path on bundled data: train on round 2013-06, suggest for 2014-05, accept, report; then the
    2014 update round person by person (train, split and code, counts and dates, report).

    Example:
        coder demo --workdir demo
    """
    from coder.demo import run_demo

    check_output(workdir, folder=True, option="--workdir")

    run_demo(workdir, console=console, stage_bar=progress)


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command()(suggest)
    app.command()(evaluate)
    app.command()(demo)
