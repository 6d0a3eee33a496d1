"""review (server start/stop/invite, push, pull), accept and status: thin commands over the library."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coder.cli.options import (
    CodebookOpt,
    ProjectOpt,
    ResetConfigOpt,
    StoreOpt,
    SuggestionsOpt,
    WideOpt,
    activity,
    check_store,
    echo_pull,
    load_codebook,
    progress,
)
from coder.errors import InputError
from coder.files import check_output

review_app = typer.Typer(
    help="The review queue in Label Studio: run the server, push suggestions, pull codes.",
    no_args_is_help=True)
server_app = typer.Typer(help="Run a local Label Studio server (installed on first use).",
                         no_args_is_help=True)
review_app.add_typer(server_app, name="server")

@server_app.command("start")
def server_start(
    port: Annotated[int, typer.Option(
        min=1024, max=65535, help="Port on 127.0.0.1 (must be free: Label Studio would silently move).")] = 8080,
    data_dir: Annotated[Path | None, typer.Option(
        help="Label Studio's data folder (default: $CODER_HOME/labelstudio/data).")] = None,
) -> None:
    """Start Label Studio on 127.0.0.1 (installed into its own venv on first use); wait until it answers.

    Makes an admin user and an API key on first start and keeps them in a user-only file; the key is never
    printed. Telemetry and version checks are off.

    Example:
        coder review server start --port 8080
    """
    from coder.labelstudio.server import start_server

    with activity() as now:
        start_server(port=port, data_dir=data_dir, echo=typer.echo, activity=now)


@server_app.command("install")
def server_install() -> None:
    """Install Label Studio into its own virtual environment now (`start` does it on first use).

    Location: $CODER_LABEL_STUDIO_VENV, else $CODER_HOME/labelstudio-venv (~/.local/share/coder/...).

    Example:
        coder review server install
    """
    from coder.labelstudio.server import LABEL_STUDIO_VERSION, ensure_installed

    with activity() as now:
        exe = ensure_installed(echo=typer.echo, activity=now)
    typer.echo(f"Label Studio {LABEL_STUDIO_VERSION}: {exe}")


@server_app.command("stop")
def server_stop() -> None:
    """Stop the Label Studio server that `coder review server start` started (by its process id).

    Example:
        coder review server stop
    """
    from coder.labelstudio.server import stop_server

    stop_server(echo=typer.echo)


@server_app.command("invite")
def server_invite() -> None:
    """Print a sign-up link for another reviewer, so every review records who made it.

    Example:
        coder review server invite
    """
    from coder.labelstudio.client import invite_url

    typer.echo(invite_url())


@review_app.command("push")
def push_cmd(
    suggestions: SuggestionsOpt,
    project: ProjectOpt = None,
    codebook: CodebookOpt = None,
    store: StoreOpt = Path("annotations"),
    batch_size: Annotated[int, typer.Option(
        min=1, max=1000, help="Tasks per import request (each batch lands whole or not).")] = 50,
    reset_config: ResetConfigOpt = False,
) -> None:
    """Queue every answer routed to `review` as a Label Studio task, least-confident first.

    The model's suggestion is pre-selected. Pushing again adds only what is not queued yet and never
    changes a task; an interrupted push is finished by re-running it.

    Example:
        coder review push --suggestions suggestions.csv --project "coder 2014-05"
    """
    from coder.review.push import push
    from coder.review.store import ReviewStore
    from coder.suggestions import read_suggestions

    check_store(store)
    cb = load_codebook(codebook)
    df = read_suggestions(suggestions, cb)
    with progress(transient=True) as stage:
        result = push(df, cb, project=project, batch_size=batch_size, reset_config=reset_config,
                      progress=lambda done, total: stage("pushing", done, total))
    ReviewStore(store).remember_suggestions(suggestions)
    for title in result.created:
        typer.echo(f"created project {title!r}")
    projects = ", ".join(f"{t!r} (id {i})" for t, i in result.projects.items()) or "none"
    typer.echo(f"pushed {result.added} new task(s) for {result.answers} answer(s) (identical answers to a "
               f"question share one task); {result.already} already queued (left as they are); "
               f"{result.routed_auto} auto-coded row(s) not queued. Project(s): {projects}")


@review_app.command("pull")
def pull_cmd(
    project: ProjectOpt = None,
    store: StoreOpt = Path("annotations"),
    codebook: CodebookOpt = None,
) -> None:
    """Record every completed review in the store, with who, when, and the model's suggestion.

    Pulling twice records nothing twice; skipped tasks stay in the queue. An annotation whose code is not in
    the codebook is reported and not recorded (the others are); the command then exits 1.

    Example:
        coder review pull --project "coder 2014-05" --store annotations
    """
    from coder.review.pull import pull

    check_store(store)
    cb = load_codebook(codebook)
    result, added = pull(store, cb, project=project)
    echo_pull(result, added, "review", "task", store)


@review_app.command("export")
def export_cmd(
    suggestions: SuggestionsOpt,
    out: Annotated[Path, typer.Option(help="Tasks JSON to write (Label Studio's import format).")],
    codebook: CodebookOpt = None,
) -> None:
    """Write the review tasks to a file for a Label Studio run by someone else (no API key needed).

    The same tasks `push` queues (identical answers share one task), with the model's suggestion as a
    prediction; the labeling config the project must use is written beside it (<out>.config.xml).

    Example:
        coder review export --suggestions suggestions.csv --out tasks.json
    """
    from coder.review.handoff import config_path_for, export_tasks
    from coder.suggestions import read_suggestions

    if out.suffix.lower() != ".json":
        raise InputError("--out must be a .json file", file=str(out))
    check_output(out, [suggestions, codebook])
    check_output(config_path_for(out), [suggestions, codebook, out])
    cb = load_codebook(codebook)
    n_tasks, n_answers = export_tasks(read_suggestions(suggestions, cb), cb, out)
    typer.echo(f"wrote {n_tasks} task(s) for {n_answers} answer(s) to {out}; in Label Studio make a project "
               f"with the labeling config in {config_path_for(out)}, then import {out}")


@review_app.command("import")
def import_cmd(
    export: Annotated[Path, typer.Option(help="Label Studio JSON export of the reviewed project.")],
    store: StoreOpt = Path("annotations"),
    project: Annotated[str | None, typer.Option(
        help="Name to record as the project (default: 'export <file name>').")] = None,
    codebook: CodebookOpt = None,
) -> None:
    """Record the reviews in a Label Studio JSON export, exactly as `pull` records them.

    Importing the same export twice records nothing twice; a later export adds only what is new.

    Example:
        coder review import --export ls-export.json --store annotations
    """
    from coder.review.handoff import import_export

    check_store(store)
    result, added = import_export(export, store, load_codebook(codebook), project=project)
    echo_pull(result, added, "review", "task", store)


def accept_cmd(
    suggestions: SuggestionsOpt,
    out: Annotated[Path, typer.Option(help="Accepted-codes CSV to write (readable as returns).")],
    store: StoreOpt = Path("annotations"),
    codebook: CodebookOpt = None,
    wide: WideOpt = False,
) -> None:
    """Build the accepted-codes table: human reviews first, then auto-codes; pending where review is due.

    One row per (round, locality, qid) with its source (human, auto, rule, pending) and provenance. A human
    code is never replaced by a model code. With --wide: a workbook with one row per area instead.

    Example:
        coder accept --suggestions suggestions.csv --store annotations --out accepted.csv
        coder accept --suggestions suggestions.csv --wide --out accepted.xlsx
    """
    from coder.review.accept import accept

    if wide and out.suffix.lower() != ".xlsx":
        raise InputError("--wide writes a workbook: --out must be an .xlsx file", file=str(out))
    if not wide and out.suffix.lower() not in (".csv", ".xlsx"):
        raise InputError("--out must be a .csv or .xlsx file", file=str(out))
    check_output(out, [suggestions, store, codebook])
    check_store(store)
    table = accept(suggestions, out, load_codebook(codebook), store=store, wide=wide)
    counts = table["source"].value_counts()
    parts = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("human", "auto", "rule", "pending"))
    typer.echo(f"wrote {out}: {len(table)} rows ({parts})")


def status_cmd(
    store: StoreOpt = Path("annotations"),
    codebook: CodebookOpt = None,
) -> None:
    """Show the review's progress per round, the most-corrected questions, and kappa between two reviewers.

    Example:
        coder status --store annotations
    """
    from rich.console import Console
    from rich.table import Table

    from coder.review.status import review_status

    s = review_status(store, load_codebook(codebook))
    console = Console()
    t = Table(title="Review progress")
    for c in ("round", "auto-coded", "waiting for review", "reviewed", "changed by reviewer", "tasks waiting",
              "tasks reviewed"):
        t.add_column(c, justify="left" if c == "round" else "right")
    tot_rev = tot_chg = 0
    for r in s["rounds"]:
        tot_rev += r.reviewed
        tot_chg += r.changed
        t.add_row(r.round, _count(r.auto), _count(r.waiting), str(r.reviewed), _pct(r.changed, r.reviewed),
                  _count(r.waiting_tasks), str(r.reviewed_tasks))
    console.print(t)
    console.print("Counts are answers; a task holds one written answer, shared by every area that gave it.")
    if s["note"]:
        console.print(f"note: {s['note']}")
    if tot_rev:
        console.print(f"Reviewers changed the suggestion in {_pct(tot_chg, tot_rev)} of {tot_rev} reviews.")
    else:
        console.print("No reviews pulled yet (`coder review pull`).")
    if s["most_corrected"]:
        t = Table(title="Most-corrected questions")
        for c in ("question", "reviewed", "changed"):
            t.add_column(c, justify="right")
        for qid, n, c in s["most_corrected"]:
            t.add_row(f"Q{qid} ({s['question_ref'].get(qid, '')})", str(n), _pct(c, n))
        console.print(t)
    if s["kappa"]:
        t = Table(title="Two reviewers: Cohen's kappa")
        for c in ("question", "tasks", "agreement", "kappa"):
            t.add_column(c, justify="right")
        for k in s["kappa"]:
            t.add_row(f"Q{k['qid']} ({s['question_ref'].get(k['qid'], '')})", str(k["tasks"]),
                      f"{k['agreement']:.0%}", "-" if k["kappa"] is None else f"{k['kappa']:.2f}")
        console.print(t)


def _count(n: int | None) -> str:
    return "?" if n is None else str(n)


def _pct(n: int, d: int) -> str:
    return f"{n} ({n / d:.0%})" if d else "0"


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")
    app.command("accept")(accept_cmd)
    app.command("status")(status_cmd)
