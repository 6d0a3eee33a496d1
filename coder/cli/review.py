"""review (server start/stop/invite, push, pull), accept and status: thin commands over the library."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from coder.errors import InputError

review_app = typer.Typer(
    help="The review queue in Label Studio: run the server, push suggestions, pull codes.",
    no_args_is_help=True)
server_app = typer.Typer(help="Run a local Label Studio server (installed on first use).",
                         no_args_is_help=True)
review_app.add_typer(server_app, name="server")

CODEBOOK_HELP = "Codebook YAML (default: the project's codebook/stocktake-2013.yaml)."
STORE_HELP = "Folder that keeps every human review (the source of truth for human decisions)."
SUGGESTIONS_HELP = "Suggestions CSV written by `coder suggest`."
Codebook = Annotated[Path | None, typer.Option(help=CODEBOOK_HELP)]
Store = Annotated[Path, typer.Option(help=STORE_HELP)]
Suggestions = Annotated[Path, typer.Option(help=SUGGESTIONS_HELP)]


def _codebook(path: Path | None):
    from coder.codebook import load_codebook

    return load_codebook(path)


@server_app.command("start")
def server_start(
    port: Annotated[int, typer.Option(
        help="Port on 127.0.0.1 (must be free: Label Studio would silently move).")] = 8080,
    data_dir: Annotated[Path | None, typer.Option(
        help="Label Studio's data folder (default: $CODER_HOME/labelstudio/data).")] = None,
) -> None:
    """Start Label Studio on 127.0.0.1 (installed into its own venv on first use); wait until it answers.

    Makes an admin user and an API key on first start and keeps them in a user-only file; the key is never
    printed. Telemetry and version checks are off.

    Example:
        coder review server start --port 8080
    """
    from coder import review

    review.start_server(port=port, data_dir=data_dir, echo=typer.echo)


@server_app.command("install")
def server_install() -> None:
    """Install Label Studio into its own virtual environment now (`start` does it on first use).

    Location: $CODER_LABEL_STUDIO_VENV, else $CODER_HOME/labelstudio-venv (~/.local/share/coder/...).

    Example:
        coder review server install
    """
    from coder import review

    exe = review.ensure_installed(echo=typer.echo)
    typer.echo(f"Label Studio {review.LABEL_STUDIO_VERSION}: {exe}")


@server_app.command("stop")
def server_stop() -> None:
    """Stop the Label Studio server that `coder review server start` started (by its process id).

    Example:
        coder review server stop
    """
    from coder import review

    review.stop_server(echo=typer.echo)


@server_app.command("invite")
def server_invite() -> None:
    """Print a sign-up link for another reviewer, so every review records who made it.

    Example:
        coder review server invite
    """
    from coder import review

    typer.echo(review.invite_url())


@review_app.command("push")
def push_cmd(
    suggestions: Suggestions,
    project: Annotated[str | None, typer.Option(
        help="Label Studio project title (default: 'coder <round>', one per round).")] = None,
    codebook: Codebook = None,
    store: Store = Path("annotations"),
    batch_size: Annotated[int, typer.Option(
        min=1, help="Tasks per import request (each batch lands whole or not).")] = 50,
    reset_config: Annotated[bool, typer.Option(
        "--reset-config", help="Replace a labeling config edited by hand with coder's own.")] = False,
) -> None:
    """Queue every answer routed to `review` as a Label Studio task, least-confident first.

    The model's suggestion is pre-selected. Pushing again adds only what is not queued yet and never
    changes a task; an interrupted push is finished by re-running it.

    Example:
        coder review push --suggestions suggestions.csv --project "coder 2014-05"
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from coder import review
    from coder.accept import ReviewStore

    cb = _codebook(codebook)
    df = review.read_suggestions(suggestions, cb)
    with Progress(TextColumn("pushing"), BarColumn(), MofNCompleteColumn(), transient=True) as bar:
        task = bar.add_task("push", total=None)
        result = review.push(df, cb, project=project, batch_size=batch_size, reset_config=reset_config,
                             progress=lambda done, total: bar.update(task, completed=done, total=total))
    ReviewStore(store).remember_suggestions(suggestions)
    for title in result.created:
        typer.echo(f"created project {title!r}")
    projects = ", ".join(f"{t!r} (id {i})" for t, i in result.projects.items()) or "none"
    typer.echo(f"pushed {result.added} new task(s); {result.already} already queued (left as they are); "
               f"{result.routed_auto} auto-coded row(s) not queued. Project(s): {projects}")


@review_app.command("pull")
def pull_cmd(
    project: Annotated[str | None, typer.Option(
        help="Project title (default: every project coder made).")] = None,
    store: Store = Path("annotations"),
    codebook: Codebook = None,
) -> None:
    """Record every completed review in the store, with who, when, and the model's suggestion.

    Pulling twice records nothing twice; skipped tasks stay in the queue. An annotation whose code is not in
    the codebook is reported and not recorded (the others are); the command then exits 1.

    Example:
        coder review pull --project "coder 2014-05" --store annotations
    """
    from coder import review

    cb = _codebook(codebook)
    result, added = review.pull(store, cb, project=project)
    echo_pull(result, added, "review", "task", store)


def echo_pull(result, added: int, what: str, item: str, where: Path) -> None:
    """What a pull recorded and what is still waiting; exit 1 when some annotations could not be recorded."""
    for problem in result.problems:
        typer.echo(f"error: {problem}", err=True)
    typer.echo(f"recorded {added} new {what}(s) in {where} ({result.seen - added} already recorded); "
               f"{result.waiting} {item}(s) still waiting, {result.skipped} skipped. Project(s): "
               f"{', '.join(repr(p) for p in result.projects)}")
    if result.problems:
        typer.echo(f"{len(result.problems)} annotation(s) not recorded (see above)", err=True)
        # sys.exit, not typer.Exit: the app runs with standalone_mode=False, where Exit's code is returned,
        # not used as the process's exit status.
        sys.exit(1)


def accept_cmd(
    suggestions: Suggestions,
    out: Annotated[Path, typer.Option(help="Accepted-codes CSV to write (readable as returns).")],
    store: Store = Path("annotations"),
    codebook: Codebook = None,
) -> None:
    """Build the accepted-codes table: human reviews first, then auto-codes; pending where review is due.

    One row per (round, locality, qid) with its source (human, auto, rule, pending) and provenance. A human
    code is never replaced by a model code.

    Example:
        coder accept --suggestions suggestions.csv --store annotations --out accepted.csv
    """
    from coder.accept import accept

    if out.suffix.lower() != ".csv":
        raise InputError("--out must be a .csv file", file=str(out))
    table = accept(suggestions, out, _codebook(codebook), store=store)
    counts = table["source"].value_counts()
    parts = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("human", "auto", "rule", "pending"))
    typer.echo(f"wrote {out}: {len(table)} rows ({parts})")


def status_cmd(
    store: Store = Path("annotations"),
    codebook: Codebook = None,
) -> None:
    """Show the review's progress per round, the most-corrected questions, and kappa between two reviewers.

    Example:
        coder status --store annotations
    """
    from rich.console import Console
    from rich.table import Table

    from coder.accept import review_status

    s = review_status(store, _codebook(codebook))
    console = Console()
    t = Table(title="Review progress")
    for c in ("round", "auto-coded", "waiting for review", "reviewed", "changed by reviewer"):
        t.add_column(c, justify="left" if c == "round" else "right")
    tot_rev = tot_chg = 0
    for r in s["rounds"]:
        tot_rev += r.reviewed
        tot_chg += r.changed
        t.add_row(r.round, _count(r.auto), _count(r.waiting), str(r.reviewed), _pct(r.changed, r.reviewed))
    console.print(t)
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
