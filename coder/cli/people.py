"""`coder people`: the person-by-person update round (codebook/update-2014.yaml), thin commands over coder.people.

    coder people train --data coder/data/updates.csv --gold coder/data/updates-gold --model-dir models-2014/
    coder people --data coder/data/updates.csv --model-dir models-2014/ --out people.csv
    coder people push --people people.csv --project 'coder people 2014-05'
    coder people pull --project 'coder people 2014-05' --store annotations-2014/
    coder people accept --people people.csv --store annotations-2014/ --out people-accepted.csv
    coder people report --people people-accepted.csv --areas people-areas.csv --out report-2014/
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coder.cli.options import (
    ModelDirOpt,
    ProjectOpt,
    ResetConfigOpt,
    StoreOpt,
    console,
    model_files,
    progress,
    refuse_other_model,
)
from coder.display import frame_table

people_app = typer.Typer(help="The 2014 update round, person by person: split, code, review, report.",
                         invoke_without_command=True, add_completion=False)
UpdateCodebookOpt = Annotated[Path | None, typer.Option(
    "--codebook", help="Codebook YAML of the update round (default: codebook/update-2014.yaml).")]
PeopleOpt = Annotated[Path, typer.Option("--people", help="People CSV written by `coder people`.")]


def update_codebook(path: Path | None):
    """The update round's codebook: the given file, else the project's update-2014.yaml."""
    from coder.codebook import load_codebook, project_file

    return load_codebook(path or project_file("update-2014.yaml"))


def areas_path_for(out: Path) -> Path:
    """Where the area rows go beside a people CSV: people.csv -> people-areas.csv."""
    return out.with_name(f"{out.stem}-areas{out.suffix or '.csv'}")


@people_app.callback()
def people(
    ctx: typer.Context,
    data: Annotated[Path | None, typer.Option("--data", help="Updates CSV: round, locality, region, text.")] = None,
    model_dir: Annotated[Path | None, typer.Option("--model-dir", help="Model trained by `coder people train`.")]
    = None,
    out: Annotated[Path | None, typer.Option("--out", help="People CSV to write (areas go beside it).")] = None,
    codebook: UpdateCodebookOpt = None,
) -> None:
    """Split each update into person records, code them, extract counts and dates, and route each to
    auto or review. Writes OUT (one row per person) and OUT-areas.csv (one row per area).

    Example:
        coder people --data coder/data/updates.csv --model-dir models-2014/ --out people.csv
    """
    if ctx.invoked_subcommand is not None:
        return
    missing = [n for n, v in (("--data", data), ("--model-dir", model_dir), ("--out", out)) if v is None]
    if missing:
        from coder.errors import InputError

        raise InputError(f"coder people needs {', '.join(missing)} (or a command: train, push, pull, accept, "
                         "report; see coder people --help)")
    from coder.files import check_output
    from coder.model.pipeline import open_model
    from coder.people.classify import code_people, read_updates
    from coder.spreadsheet import write_safe_csv

    inputs = [data, codebook, *model_files(model_dir)]
    check_output(out, inputs)
    check_output(areas_path_for(out), [*inputs, out])
    cb = update_codebook(codebook)
    updates = read_updates(data)
    model = open_model(model_dir, cb)
    with progress() as stage:
        people_df, areas = code_people(updates, model, stage=stage)
    write_safe_csv(people_df, out)
    write_safe_csv(areas, areas_path_for(out))
    summary = people_df.groupby("route").size().rename("people").to_frame().T
    console.print(frame_table(summary.reset_index(drop=True), f"model {model.version}: person records"))
    bad = areas[areas["counts_consistent"] == "no"]
    for r in bad.itertuples(index=False):
        typer.echo(f"review: {r.locality}: {r.review_why}")
    typer.echo(f"wrote {len(people_df)} person record(s) to {out} and {len(areas)} area(s) to "
               f"{areas_path_for(out)}; {int((people_df['route'] == 'review').sum())} person(s) and "
               f"{int((areas['route'] == 'review').sum())} area(s) to review")


@people_app.command("train")
def train_cmd(
    data: Annotated[Path, typer.Option("--data", help="Updates CSV: round, locality, region, text.")],
    gold: Annotated[Path, typer.Option("--gold", help="Folder with hand-coded people.csv and areas.csv.")],
    model_dir: ModelDirOpt,
    split: Annotated[str, typer.Option(help="Train on the areas of this split of areas.csv ('all': every "
                                            "area).")] = "train",
    codebook: UpdateCodebookOpt = None,
) -> None:
    """Train the update round's classifier on hand-coded person records, saved as a new model version.

    Example:
        coder people train --data coder/data/updates.csv --gold coder/data/updates-gold --model-dir models-2014/
    """
    from coder.display import metrics_table
    from coder.files import check_output
    from coder.model.embed import Embedder
    from coder.people.classify import read_gold, read_updates, train_people

    check_output(model_dir, [data, gold, codebook], folder=True, option="--model-dir")
    refuse_other_model(model_dir, "answers")
    cb = update_codebook(codebook)
    updates = read_updates(data)
    people_df, areas = read_gold(gold, None if split == "all" else split, codebook=cb)
    updates = updates[updates["locality"].isin(areas["locality"])]
    with progress() as stage:
        model = train_people(updates, people_df, areas, cb, model_dir, Embedder(), stage=stage)
    console.print(metrics_table(f"model {model.version}: cross-validated on {len(areas)} areas (grouped by area)",
                                model.manifest["metrics"]))
    typer.echo(f"saved model {model.version} to {model_dir}")


@people_app.command("push")
def push_cmd(
    people_csv: PeopleOpt,
    project: ProjectOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Queue every person record, not only those routed to "
                                                     "review.")] = False,
    reset_config: ResetConfigOpt = False,
    codebook: UpdateCodebookOpt = None,
) -> None:
    """Queue person records routed to review in Label Studio: one task per person, evidence highlighted,
    codes pre-selected, the date editable.

    Example:
        coder people push --people people.csv --project 'coder people 2014-05'
    """
    from coder.people.tasks import push_people
    from coder.returns import read_table

    cb = update_codebook(codebook)
    df = read_table(people_csv)
    areas_csv = areas_path_for(people_csv)
    areas = read_table(areas_csv) if areas_csv.exists() else None
    result = push_people(df, cb, project=project, everyone=all_, reset_config=reset_config, areas=areas)
    typer.echo(f"pushed {result.added} new task(s) to {', '.join(repr(t) for t in result.projects)} "
               f"({result.already} already queued, {result.routed_auto} auto-coded not queued)")


@people_app.command("pull")
def pull_cmd(
    store: StoreOpt,
    project: ProjectOpt = None,
    codebook: UpdateCodebookOpt = None,
) -> None:
    """Record completed person reviews from Label Studio in the store (re-running adds nothing twice).

    Example:
        coder people pull --project 'coder people 2014-05' --store annotations-2014/
    """
    from coder.cli.options import echo_pull
    from coder.people.tasks import pull_people

    cb = update_codebook(codebook)
    result, added = pull_people(cb, store, project=project)
    echo_pull(result, added, "person review", "person record", store)


@people_app.command("accept")
def accept_cmd(
    people_csv: PeopleOpt,
    store: StoreOpt,
    out: Annotated[Path, typer.Option("--out", help="Accepted people CSV to write.")],
    codebook: UpdateCodebookOpt = None,
) -> None:
    """The people table with every reviewed record replaced by the reviewer's codes and date; the areas
    beside it (PEOPLE-areas.csv) with the counts reviewers corrected, written beside OUT.

    Example:
        coder people accept --people people.csv --store annotations-2014/ --out people-accepted.csv
    """
    from coder.files import check_output
    from coder.people.classify import check_areas
    from coder.people.tasks import accept_areas, accept_people
    from coder.returns import read_table
    from coder.spreadsheet import write_safe_csv

    inputs = [people_csv, areas_path_for(people_csv), store, codebook]
    check_output(out, inputs)
    check_output(areas_path_for(out), [*inputs, out])
    cb = update_codebook(codebook)
    accepted = accept_people(read_table(people_csv), store, cb, file=str(people_csv))
    areas_csv = areas_path_for(people_csv)
    areas = accept_areas(check_areas(read_table(areas_csv), str(areas_csv)), store) if areas_csv.exists() else None
    write_safe_csv(accepted, out)
    if areas is not None:
        write_safe_csv(areas, areas_path_for(out))
        typer.echo(f"wrote {len(areas)} area(s) to {areas_path_for(out)} "
                   f"({int((areas['counts_source'] == 'human').sum())} with counts corrected in review)")
    typer.echo(f"wrote {len(accepted)} person record(s) to {out}: "
               + ", ".join(f"{k} {v}" for k, v in accepted["source"].value_counts().items()))


@people_app.command("report")
def report_cmd(
    people_csv: PeopleOpt,
    areas_csv: Annotated[Path, typer.Option("--areas", help="Areas CSV written beside the people CSV.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the round's report.")],
    definitions: Annotated[Path | None, typer.Option(
        "--definitions", help="Report definitions YAML (default: codebook/report-2014.yaml).")] = None,
    codebook: UpdateCodebookOpt = None,
) -> None:
    """The round's report: discharged by June against the cohort, the trajectory of estimated discharges,
    reasons and care packages, plans signed off, a page per area.

    Example:
        coder people report --people people.csv --areas people-areas.csv --out report-2014/
    """
    from coder.files import check_output
    from coder.people.report import write_people_report
    from coder.returns import read_table

    check_output(out, [people_csv, areas_csv, definitions, codebook], folder=True)
    cb = update_codebook(codebook)
    result = write_people_report(read_table(people_csv), read_table(areas_csv), out, cb, definitions,
                                 files=(str(people_csv), str(areas_csv)))
    typer.echo(f"wrote the report to {result / 'index.html'}")


def register(app: typer.Typer) -> None:
    app.add_typer(people_app, name="people")
