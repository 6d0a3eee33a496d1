"""retrain, models (list / use), audit, drift and review order: thin commands over coder.rounds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from coder.cli.options import (
    CodebookOpt,
    DefinitionsOpt,
    EncodingOpt,
    ModelDirOpt,
    ReviewOrder,
    SuggestionsOpt,
    TargetOpt,
    ThresholdMethod,
    console,
    echo_examples,
    load_codebook,
    model_files,
    progress,
    refuse_other_model,
)
from coder.display import frame_table
from coder.files import check_output

AcceptedOpt = Annotated[list[Path], typer.Option(
    "--accepted", help="Accepted-codes table (coder accept) or hand-coded returns file; repeat for several.")]

models_app = typer.Typer(invoke_without_command=True)


def retrain(
    accepted: AcceptedOpt,
    model_dir: ModelDirOpt,
    include_auto: Annotated[bool, typer.Option(
        "--include-auto", help="Also learn from auto-coded answers (off: a model would learn its own mistakes).")]
    = False,
    threshold_method: Annotated[ThresholdMethod, typer.Option(
        "--threshold-method", help="ltt: guaranteed precision (Learn-then-Test); shrunk: aimed-at precision.")]
    = ThresholdMethod.ltt,
    target_precision: TargetOpt = None,
    delta: Annotated[float, typer.Option(
        "--delta", min=0.001, max=0.5, help="Guarantee holds with probability 1 - delta.")] = 0.1,
    holdout: Annotated[float, typer.Option(
        "--holdout", min=0.05, max=0.6, help="Share of the new round's written answers held out to compare.")]
    = 0.3,
    codebook: CodebookOpt = None,
    encoding: EncodingOpt = "utf-8",
) -> None:
    """Train a new model version on every human code so far; promote it only if it is not worse.

    Both the new model and the current one are scored on the same held-out answers (a grouped share of the
    newest round the current model has not seen), which the new model did not train on. A promoted model is
    refitted on everything and becomes current; a rejected one is kept in the registry, not used.

    Example:
        coder retrain --accepted coder/data/returns-2013-06.csv --accepted accepted.csv --model-dir models/
    """
    from coder.rounds.accepted import read_accepted

    check_output(model_dir, [*accepted, codebook], folder=True, option="--model-dir")
    refuse_other_model(model_dir, "answers")
    cb = load_codebook(codebook)
    acc = read_accepted(accepted, cb, encoding)
    from coder.model.guarantee import describe
    from coder.rounds.retrain import retrain as run
    with progress() as stage:
        res = run(acc, cb, model_dir, include_auto=include_auto, threshold_method=threshold_method.value,
                  target_precision=target_precision, delta=delta, fraction=holdout, stage=stage)
    c = res.comparison
    console.print(frame_table(c.table(), f"held out: {c.heldout}"))
    verdict = "promoted" if res.promoted else "not promoted"
    typer.echo(f"{res.version}: {verdict} ({c.reason}); current model: "
               f"{res.version if res.promoted else res.previous}")
    echo_examples(res.model.manifest)
    if res.promoted and (line := describe(res.model.manifest)):
        typer.echo(line)


@models_app.callback()
def models(
    ctx: typer.Context,
    model_dir: ModelDirOpt = Path("models"),
) -> None:
    ctx.obj = {"model_dir": model_dir}
    """List every model version: date, rounds, data hash, accuracy, promoted, and which is current.

    Example:
        coder models --model-dir models/
        coder models use v1 --model-dir models/
    """
    if ctx.invoked_subcommand:
        return
    ctx.obj = None
    from coder.rounds.retrain import list_models

    table = list_models(model_dir)
    if table.empty:
        typer.echo(f"no model versions in {model_dir}: run `coder train` first")
        return
    Console(width=max(Console().width, 150)).print(
        frame_table(table.astype(object).fillna(""), f"models in {model_dir} (* = current)"))


@models_app.command("use")
def models_use(
    ctx: typer.Context,
    version: Annotated[str, typer.Argument(help="Version to make current, as listed by `coder models`.")],
    model_dir: Annotated[Path | None, typer.Option(
        "--model-dir", help="Model directory (versions + registry.json); also accepted before `use`.")] = None,
) -> None:
    """Make VERSION the current model (roll back or forward); nothing is deleted.

    Example:
        coder models use v1-3fa2c1 --model-dir models/
    """
    from coder.model.store import read_registry, set_current

    model_dir = model_dir or (ctx.obj or {}).get("model_dir") or Path("models")
    versions = [v["version"] for v in read_registry(model_dir)["versions"]]
    # accept the short form v1 for v1-3fa2c1 when it is unambiguous
    match = [v for v in versions if v == version or v.split("-")[0] == version]
    set_current(model_dir, match[0] if len(match) == 1 else version)
    typer.echo(f"current model: {match[0] if len(match) == 1 else version}")


def audit(
    data: Annotated[Path, typer.Option("--data", help="Hand-coded returns or accepted-codes table.")],
    model_dir: ModelDirOpt,
    out: Annotated[Path, typer.Option("--out", help="Suggestions-format CSV of the doubtful codes.")] =
    Path("audit.csv"),
    codebook: CodebookOpt = None,
    encoding: EncodingOpt = "utf-8",
) -> None:
    """Find human codes that look inconsistent with the rest (cross-validated confident learning).

    Each flagged answer is listed with the model's alternative, route `review`, so `coder review push
    --suggestions audit.csv` sends it for a second look. The model directory gives the classifier settings.

    Example:
        coder audit --data coder/data/returns.csv --model-dir models/ --out audit.csv
    """
    from coder.rounds.accepted import read_accepted
    from coder.spreadsheet import write_table

    check_output(out, [data, *model_files(model_dir), codebook])
    cb = load_codebook(codebook)
    df = read_accepted([data], cb, encoding)
    from coder.model import pipeline
    from coder.rounds.audit import audit as run
    from coder.rounds.retrain import manifest_classifier_params
    model = pipeline.open_model(model_dir, cb)
    with progress() as stage:
        flags = run(df, cb, pipeline.embedder_for(model), classifier_params=manifest_classifier_params(model.manifest),
                    model_version=model.version, stage=stage)
    write_table(flags, out)
    n = int((df["codes"] != "").sum())
    typer.echo(f"{len(flags):,} of {n:,} coded answers flagged for a second look; wrote {out}")


def drift(
    accepted: AcceptedOpt,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the per-question table (CSV).")] = None,
    codebook: CodebookOpt = None,
    encoding: EncodingOpt = "utf-8",
    model_dir: Annotated[Path | None, typer.Option(
        "--model-dir", help="Also report, per round, the share of answers unlike anything in training.")] = None,
) -> None:
    """Per round and question: how often reviewers changed the suggestion, and calibration (ECE).

    Example:
        coder drift --accepted accepted.csv --out drift.csv --model-dir models/
    """
    from coder.rounds.accepted import read_accepted
    from coder.rounds.drift import drift as run
    from coder.spreadsheet import write_table

    if out:
        check_output(out, [*accepted, codebook, *(model_files(model_dir) if model_dir else [])])
    cb = load_codebook(codebook)
    acc = read_accepted(accepted, cb, encoding)
    if model_dir is not None:
        from coder.model.pipeline import open_model
        from coder.rounds.drift import novelty_by_round

        Console().print(frame_table(novelty_by_round(acc, open_model(model_dir, cb)),
                                    "answers unlike anything in training, per round"))
    per_round, per_q = run(acc, cb)
    if per_round.empty:
        typer.echo("no reviewed suggestions (source human with a suggestion) in the accepted codes")
        return
    Console().print(frame_table(per_round, "reviewed suggestions per round"))
    Console().print(frame_table(per_q.head(10), "most-changed questions"))
    if out:
        write_table(per_q, out)
        typer.echo(f"wrote {len(per_q):,} rows to {out}")


def review_order(
    suggestions: SuggestionsOpt,
    out: Annotated[Path, typer.Option("--out", help="Suggestions CSV with a `priority` column, best first.")],
    order: Annotated[ReviewOrder, typer.Option(
        "--order", help="report-impact: answers that could move a regional report line most first; "
                        "confidence: least confident first.")] = ReviewOrder.report_impact,
    definitions: DefinitionsOpt = None,
    codebook: CodebookOpt = None,
    target: Annotated[float, typer.Option(
        "--target", min=0.1, help="report-impact: review until no Appendix 3b line could be moved by more than "
                                  "this many points (expected + 2 sd) by unreviewed machine codes.")] = 2.0,
    budget: Annotated[float | None, typer.Option(
        "--budget", min=0.0, max=1.0, help="report-impact: at most this share of the answers to read "
                                           "(one task per written answer); default no limit.")] = None,
) -> None:
    """Order the suggestions for review and add a `priority` column (higher = review sooner).

    report-impact chooses the written answers that keep every regional and national Appendix 3b line within
    --target points and routes them to review (even confident ones), most needed first.

    Example:
        coder review order --suggestions suggestions.csv --out ordered.csv --order report-impact
    """
    from coder.report.definitions import load_report_definitions
    from coder.returns import read_table
    from coder.rounds.order import plan_review
    from coder.spreadsheet import write_table
    from coder.suggestions import LONG_SHEET, read_suggestions

    check_output(out, [suggestions, definitions, codebook])
    cb = load_codebook(codebook)
    read_suggestions(suggestions, cb)  # validates every row
    s = read_table(suggestions, sheet=LONG_SHEET)
    s["qid"] = s["qid"].str.strip().str.lstrip("Qq").astype(int)
    defs = load_report_definitions(definitions, codebook=cb)
    ordered, bound = plan_review(s, defs, order.value, target=target,
                                 budget=None if budget is None else int(budget * len(s)))
    write_table(ordered, out)
    review = ordered[ordered["route"] == "review"]
    typer.echo(f"wrote {len(ordered):,} suggestions to {out}, {len(review):,} to review, ordered by {order.value}")
    if bound is not None:
        worst = bound.lines.sort_values("bound", ascending=False).head(1)
        w = next(worst.itertuples(), None)
        where = f"; worst line Q{w.qid} {w.region} ({w.round}): {w.bound:.1f} points" if w is not None else ""
        typer.echo(f"report-impact: {len(bound.order):,} written answer(s) to review first; every Appendix 3b "
                   f"line within {target:g} points: {'yes' if bound.within else 'no, budget spent'}{where}")


def register(app: typer.Typer) -> None:
    app.command()(retrain)
    app.add_typer(models_app, name="models")
    app.command()(audit)
    app.command()(drift)
    # `coder review order` joins the review group when it exists (registered before this module)
    group = next((g.typer_instance for g in app.registered_groups if g.name == "review"), None)
    if group is not None:
        group.command("order")(review_order)
    else:
        app.command("review-order")(review_order)
