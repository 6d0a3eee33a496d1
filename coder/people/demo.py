"""The demo's second part: the 2014 update round, person by person, on the bundled update corpus.

Train on the hand-coded `train` areas of coder/data/updates-gold, code the `test` areas as if their updates had
just arrived (their gold is hidden from the model, then used to show how right it was), and write the round's
people table, area counts and report. The review step needs a person: the demo prints the commands.
"""

from __future__ import annotations

import re
from contextlib import nullcontext
from pathlib import Path

from rich.console import Console
from rich.table import Table

BUNDLED = Path(__file__).resolve().parent.parent / "data"


def run_update_demo(workdir: str | Path, console: Console | None = None, stage_bar=None) -> dict:
    """Run the update round end to end; returns the paths written and the figures printed."""
    from coder.codebook import load_codebook, project_file
    from coder.model.embed import Embedder
    from coder.people.classify import code_people, read_gold, read_updates, train_people
    from coder.people.report import write_people_report
    from coder.spreadsheet import write_safe_csv

    console = console or Console()
    workdir = Path(workdir)
    bar = stage_bar or (lambda: nullcontext(None))
    cb = load_codebook(project_file("update-2014.yaml"))
    updates = read_updates(BUNDLED / "updates.csv")
    people_tr, areas_tr = read_gold(BUNDLED / "updates-gold", "train")
    people_te, areas_te = read_gold(BUNDLED / "updates-gold", "test")
    model_dir = workdir / "models-2014"

    console.rule(f"5. update round 2014-05: train on {len(areas_tr)} hand-coded areas ({len(people_tr)} people)")
    with bar() as stage:
        model = train_people(updates[updates["locality"].isin(areas_tr["locality"])], people_tr, areas_tr, cb,
                             model_dir, Embedder(), stage=stage)
    m = model.manifest["metrics"]
    console.print(f"model {model.version}: cross-validated accuracy {m['accuracy']:.3f}, auto-coded "
                  f"{m['auto_share']:.0%} at precision {m['auto_precision']:.3f}")

    console.rule(f"6. split and code the {len(areas_te)} other areas' updates, person by person")
    incoming = updates[updates["locality"].isin(areas_te["locality"])].reset_index(drop=True)
    with bar() as stage:
        people, areas = code_people(incoming, model, stage=stage)
    people_path = workdir / "people.csv"
    areas_path = workdir / "people-areas.csv"
    write_safe_csv(people, people_path)
    write_safe_csv(areas, areas_path)
    figures = _check(people, areas, people_te, areas_te)
    t = Table(title="checked against the hand-coded person records of those areas")
    t.add_column("measure")
    t.add_column("value", justify="right")
    for k, v in figures.items():
        t.add_row(k, f"{v:.3f}" if isinstance(v, float) else str(v))
    console.print(t)

    console.rule("7. the round's report (provisional until the review queue is empty)")
    report = write_people_report(people, areas, workdir / "report-2014", cb)
    console.print(f"report: {report / 'index.html'}")
    console.rule("next: review the person records in Label Studio")
    console.print(
        f"  coder people push --people {people_path} --project 'coder people 2014-05'\n"
        f"  coder people pull --project 'coder people 2014-05' --store {workdir / 'annotations-2014'}\n"
        f"  coder people accept --people {people_path} --store {workdir / 'annotations-2014'} "
        f"--out {workdir / 'people-accepted.csv'}\n"
        f"  coder people report --people {workdir / 'people-accepted.csv'} --areas {areas_path} "
        f"--out {workdir / 'report-2014'}")
    return {"model_dir": model_dir, "people": people_path, "areas": areas_path, "report": report, **figures}


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(s).lower())


def _check(people, areas, gold_people, gold_areas) -> dict:
    gold = {(r.locality, _norm(r.person)): r for r in gold_people.itertuples(index=False)}
    got = {(r.locality, _norm(r.person)): r for r in people.itertuples(index=False)}
    both = gold.keys() & got.keys()
    p, r = len(both) / max(len(got), 1), len(both) / max(len(gold), 1)
    exact = {c: sum(str(getattr(gold[k], c)) == str(getattr(got[k], c)) for k in both) / max(len(both), 1)
             for c in ("status", "care_package", "reasons", "est_discharge")}
    ga, pa = gold_areas.set_index("locality"), areas.set_index("locality")
    counts = [str(pa.loc[loc, f]) == str(ga.loc[loc, f]) for loc in ga.index
              for f in ("discharged_count", "in_hospital_count", "not_by_june_count")]
    return {"person records found (F1)": 2 * p * r / max(p + r, 1e-9),
            **{f"{c} exact": v for c, v in exact.items()},
            "counts exact": sum(counts) / max(len(counts), 1),
            "people routed to review": int((people["route"] == "review").sum()),
            "areas routed to review": int((areas["route"] == "review").sum())}
