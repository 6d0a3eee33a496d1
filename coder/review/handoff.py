"""Offline hand-off to a Label Studio someone else runs: export the tasks as a file, import the reviews back.

For teams with no API key: `export_tasks` writes the same grouped tasks `push` would queue (with the model's
suggestion as a prediction) for whoever runs Label Studio to import by hand, plus the labeling config the
project must use; `import_export` records a Label Studio JSON export through the same record builder as
`pull`, so a decision is recorded the same way whichever road it took, and importing twice records nothing
twice. Files are read as JSON data only: nothing in them runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from coder.codebook import Codebook
from coder.errors import InputError
from coder.files import staged_files
from coder.labelstudio.projects import Project
from coder.labelstudio.sync import PullResult, records_from_tasks
from coder.review.pull import review_record
from coder.review.push import review_queue, review_tasks
from coder.review.store import ReviewStore
from coder.review.tasks import labeling_config


def config_path_for(out: str | Path) -> Path:
    """Where the labeling config goes beside an exported task file: tasks.json -> tasks.config.xml."""
    out = Path(out)
    return out.with_name(f"{out.stem}.config.xml")


def export_tasks(suggestions: pd.DataFrame, codebook: Codebook, out: str | Path) -> tuple[int, int]:
    """Write the review tasks (Label Studio's JSON import format, predictions included) and the labeling
    config beside them. Returns (tasks, answers they decide)."""
    tasks = review_tasks(review_queue(suggestions), codebook)
    with staged_files([out, config_path_for(out)]) as tmp:  # the pair lands together or not at all
        tmp[Path(out)].write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp[config_path_for(out)].write_text(labeling_config(codebook), encoding="utf-8")
    return len(tasks), sum(len(t["data"]["copies"]) for t in tasks)


def read_export(path: str | Path) -> list[dict]:
    """A Label Studio JSON export: a list of tasks, each with `id`, `data` and `annotations`."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=str(path))
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"not a Label Studio JSON export ({e})", file=str(path)) from None
    except RecursionError:
        raise InputError("not a Label Studio JSON export (nested too deeply)", file=str(path)) from None
    if not isinstance(tasks, list) or not all(isinstance(t, dict) for t in tasks):
        raise InputError("not a Label Studio JSON export (expected a list of tasks; export the project as "
                         "'JSON', not 'JSON-MIN' or CSV)", file=str(path))
    for i, t in enumerate(tasks):
        if "id" not in t or not isinstance(t.get("data"), dict) or not isinstance(t.get("annotations", []), list):
            raise InputError(f"task {i + 1} has no id, data or annotations list: not a Label Studio JSON "
                             f"export", file=str(path))
        for key in ("id", "project"):  # Label Studio numbers tasks and projects
            value = t.get(key)
            if key in t and value is not None and not (isinstance(value, int) and not isinstance(value, bool)
                                                       or isinstance(value, str) and value.isascii()
                                                       and value.isdigit()):
                raise InputError(f"task {i + 1}: {key} {value!r} is not a Label Studio {key} number",
                                 file=str(path), column=key)
    return tasks


def records_from_export(path: str | Path, codebook: Codebook, project: str | None = None) -> PullResult:
    """Every completed annotation in the export, as the same review records `pull` makes."""
    path = Path(path)
    tasks = read_export(path)
    title = project or f"export {path.name}"
    out = PullResult(projects=[title])
    by_project: dict[int, list[dict]] = {}
    for t in tasks:
        by_project.setdefault(int(t.get("project") or 0), []).append(t)
    for pid, group in by_project.items():
        # The export does not say when the project was made; records are keyed by project and annotation id.
        proj = Project(pid, title, "")
        records_from_tasks(((int(t["id"]), t["data"], t.get("annotations") or []) for t in group), proj, {},
                           f"file:{path.name}",
                           lambda a, data, p, users, url, task_id: review_record(a, data, p, users, codebook,
                                                                                 url, task_id), out)
    return out


def import_export(path: str | Path, store: str | Path, codebook: Codebook,
                  project: str | None = None) -> tuple[PullResult, int]:
    """Record the export's reviews in the store, like `pull`; returns (result, number recorded)."""
    result = records_from_export(path, codebook, project)
    return result, ReviewStore(store).add(result.new)
