"""What every command shares, defined once: options (one help text each), the progress display, the console.

Progress and messages about progress go to stderr, so a command's own output can be piped.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn

console = Console(stderr=True)
StageFn = Callable[[str, int, int], None]

DataOpt = Annotated[Path, typer.Option("--data", help="Returns file: long or wide form, CSV or XLSX.")]
ModelDirOpt = Annotated[Path, typer.Option("--model-dir", help="Model directory (versions + registry.json).")]
CodebookOpt = Annotated[Path | None, typer.Option(
    "--codebook", help="Codebook YAML (default: the project's codebook/stocktake-2013.yaml).")]
EncodingOpt = Annotated[str, typer.Option("--encoding", help="Text encoding of CSV input (e.g. cp1252).")]
TargetOpt = Annotated[float | None, typer.Option(
    "--target-precision", min=0.5, max=0.999, help="Precision auto-coded answers must reach (default 0.95).")]
StoreOpt = Annotated[Path, typer.Option(
    "--store", help="Folder that keeps every human review (the source of truth for human decisions).")]
SuggestionsOpt = Annotated[Path, typer.Option("--suggestions", help="Suggestions CSV written by `coder suggest`.")]
ProjectOpt = Annotated[str | None, typer.Option(
    "--project", help="Label Studio project title (default: 'coder <round>' for answers, one per round; "
                      "'coder documents' for documents; a pull without it reads every project coder made).")]
ResetConfigOpt = Annotated[bool, typer.Option(
    "--reset-config", help="Replace a labeling config edited by hand with coder's own.")]
WideOpt = Annotated[bool, typer.Option(
    "--wide", help="Write an .xlsx workbook with one row per area: each question's answer and code side by "
                   "side (Q7, Q7_code), filled by source (human / auto / rule / pending), legend sheet.")]
DefinitionsOpt = Annotated[Path | None, typer.Option(
    "--definitions", help="Report definitions YAML (default: codebook/report-2013.yaml).")]


def check_store(store: Path) -> None:
    """The review store is a folder: refuse a file given as --store before anything is read or written."""
    from coder.errors import InputError

    if store.exists() and not store.is_dir():
        raise InputError("--store is a file, not a folder", file=str(store))
class ThresholdMethod(StrEnum):
    """How routing thresholds are chosen (`--threshold-method`; help lists the values)."""

    ltt = "ltt"
    shrunk = "shrunk"


class ReviewOrder(StrEnum):
    """`coder review order --order`."""

    report_impact = "report-impact"
    confidence = "confidence"


class Pending(StrEnum):
    """`coder report --pending`: how answers still waiting for review count."""

    suggested = "suggested"
    exclude = "exclude"


def model_files(model_dir: Path) -> list[Path]:
    """What an --out must never replace in a model folder (the folder itself may hold other files)."""
    return [model_dir / n for n in ("registry.json", "versions", "manifest.json", "model.skops",
                                    "documents.skops", "last-index.txt")]


def refuse_other_model(model_dir: Path, kind: str) -> None:
    """Training one kind of model (`answers`, `documents`) into a folder that holds the other kind would mix
    their files in one folder: refuse it before any work."""
    from coder.errors import InputError

    other = ("documents.skops" if kind == "answers" else "registry.json")
    if (model_dir / other).exists():
        what = "a documents model" if kind == "answers" else "an answers model"
        raise InputError(f"--model-dir holds {what} ({other}): choose another folder", file=str(model_dir))


def load_codebook(path: Path | None):
    """The codebook a command works with: the given file, else the project's."""
    from coder.codebook import load_codebook as load

    return load(path)


@contextmanager
def progress(*columns: ProgressColumn, transient: bool = False) -> Iterator[StageFn]:
    """One progress display for every command: yields `update(stage, done, total)`, a bar per stage.

    The library reports progress through such callbacks and never draws anything itself. The display
    starts at the first update, so a command that fails before any work prints its error line alone.
    """
    bar = Progress(TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(), *columns,
                   TimeElapsedColumn(), console=console, transient=transient)
    tasks: dict[str, int] = {}

    def update(stage: str, done: int, total: int | None) -> None:
        if not tasks:
            bar.start()
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    try:
        yield update
    finally:
        if tasks:
            bar.stop()


@contextmanager
def activity() -> Iterator[Callable[[str], None]]:
    """A spinner on stderr with what is happening now, for waits with no count to show (an install, a
    server starting): yields `update(message)`."""
    with console.status("working...") as status:
        yield lambda message: status.update(message)


def echo_examples(manifest: dict) -> None:
    """Say how many of the codebook's training examples a model learned from, and how many calibration answers
    calibrated it (coder.examples), if any."""
    if manifest.get("n_examples"):
        typer.echo(f"trained with {manifest['n_examples']} example answers from the codebook's training_examples "
                   "(held-out figures are the returns' own)")
    if manifest.get("n_calibration"):
        typer.echo(f"calibrated also on {manifest['n_calibration']} answers from the codebook's calibration_examples "
                   f"(never trained on; {manifest['calibration_accuracy']:.1%} of them coded right)")


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
