"""The demo: the whole loop on the data bundled with coder, written under one work folder.

Train on round 2013-06, suggest codes for round 2014-05 as if it had just arrived (its hand codes are
hidden from the model, then used to show how right the auto-coded answers were), build the accepted-codes
table, and write the reports. The review step itself needs a person: the demo prints the commands.
Its second part runs the 2014 update round person by person (coder.people.demo) on the bundled updates.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from coder.codebook import load_codebook
from coder.display import frame_table

BUNDLED = Path(__file__).resolve().parent / "data"
TRAIN_ROUND, NEW_ROUND = "2013-06", "2014-05"


def run_demo(workdir: str | Path, console: Console | None = None, stage_bar=None) -> dict:
    """Run the demo; returns the paths it wrote and the figures it printed."""
    from contextlib import nullcontext

    from coder.model import pipeline
    from coder.model.embed import Embedder
    from coder.report.build import write_report
    from coder.returns import read_returns
    from coder.review.accept import accept
    from coder.spreadsheet import write_table

    console = console or Console()
    workdir = Path(workdir)
    bar = stage_bar or (lambda: nullcontext(None))
    cb = load_codebook()
    returns = read_returns(BUNDLED / "returns.csv", cb)
    embedder = Embedder()
    model_dir = workdir / "models"

    console.rule(f"1. train on round {TRAIN_ROUND} (hand-coded)")
    with bar() as stage:
        model = pipeline.train(returns[returns["round"] == TRAIN_ROUND], cb, model_dir, embedder, stage=stage)
    m = model.manifest["metrics"]
    console.print(f"model {model.version}: cross-validated accuracy {m['accuracy']:.3f}, "
                  f"auto-coded {m['auto_share']:.0%} at precision {m['auto_precision']:.3f}")

    console.rule(f"2. suggest codes for round {NEW_ROUND} (its hand codes hidden)")
    new = returns[returns["round"] == NEW_ROUND]
    incoming = new.assign(codes="")
    new_path = workdir / f"returns-{NEW_ROUND}.csv"
    write_table(incoming, new_path)
    with bar() as stage:
        s = pipeline.suggest(incoming, model, embedder, stage=stage)
    suggestions = workdir / "suggestions.csv"
    write_table(s, suggestions)
    console.print(frame_table(pipeline.route_summary(s), f"model {model.version}: suggestions for {NEW_ROUND}"))

    gold = new.set_index(["locality", "qid"])["codes"]
    check = s.join(gold, on=["locality", "qid"])
    auto = (check["route"] == "auto") & (check["model_version"] != "rule")
    realised = float((check.loc[auto, "suggested"] == check.loc[auto, "codes"]).mean())
    answered = check["model_version"] != "rule"
    accuracy = float((check.loc[answered, "suggested"] == check.loc[answered, "codes"]).mean())
    t = Table(title=f"checked against the hand codes of {NEW_ROUND}")
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_row("accuracy on non-blank answers", f"{accuracy:.3f}")
    t.add_row("auto-coded share of non-blank answers", f"{auto.sum() / answered.sum():.1%}")
    t.add_row("realised precision of auto-coded answers", f"{realised:.3f}")
    console.print(t)

    console.rule("3. accept: auto-coded answers now, the rest once reviewed")
    accepted_path = workdir / "accepted.csv"
    accepted = accept(suggestions, accepted_path, cb, store=workdir / "annotations")
    console.print(accepted["source"].value_counts().rename("answers").to_frame().to_string())

    console.rule("4. reports (provisional until the review queue is empty)")
    result = write_report(accepted_path, workdir / "report", cb)
    console.print(f"report: {result.out / 'index.html'}")

    console.rule("next: review the queue in Label Studio")
    console.print(
        "  coder review server start\n"
        f"  coder review push --suggestions {suggestions} --project 'coder {NEW_ROUND}'\n"
        "  (review in the browser at http://127.0.0.1:8080)\n"
        f"  coder review pull --project 'coder {NEW_ROUND}' --store {workdir / 'annotations'}\n"
        f"  coder accept --suggestions {suggestions} --store {workdir / 'annotations'} --out {accepted_path}\n"
        f"  coder status --store {workdir / 'annotations'}\n"
        f"  coder report --data {accepted_path} --out {workdir / 'report'}")
    from coder.people.demo import run_update_demo

    update = run_update_demo(workdir, console=console, stage_bar=stage_bar)
    return {"model_dir": model_dir, "suggestions": suggestions, "accepted": accepted_path,
            "report": result.out, "accuracy": accuracy, "realised_precision": realised,
            "auto_share": float(auto.sum() / answered.sum()), "update": update}
