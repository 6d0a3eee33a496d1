"""Review once per written answer, against a real Label Studio server: identical answers to one question are
one task, one decision reaches every copy, and the offline hand-off (export tasks, import an export) records
reviews exactly as a pull does.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pandas as pd
import pytest
from review_browser import Browser, open_task_page
from review_fixtures import coder, make_suggestions

from coder.labelstudio.client import Client
from coder.labelstudio.projects import find_project
from coder.labelstudio.state import connection, credentials_for
from coder.returns import read_table
from coder.review.groups import count_tasks, group_rows, normalise_answer
from coder.review.store import ReviewStore
from coder.review.tasks import labeling_config

pytest_plugins = ["review_server"]
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
COPIES = 5


@pytest.fixture(scope="module")
def grouped(tmp_path_factory, codebook, returns_path) -> tuple[Path, pd.DataFrame]:
    """Suggestions for 8 areas where one template answer to a question was copied by 5 of them (with its
    case, spacing and punctuation changed), all routed to review with different confidences."""
    path = tmp_path_factory.mktemp("grouped") / "suggestions.csv"
    df = make_suggestions(returns_path, codebook, path, localities=8)
    qid = next(q.id for q in codebook.questions if not q.multi and q.id in set(df["qid"]))
    template = "Arrangements are in place; the Partnership Board agreed them in June 2013."
    variants = [template, template.upper(), template.replace(";", ","), "  " + template.lower() + " ",
                template.replace(" ", "  ")]
    areas = sorted(df["locality"].unique())[:COPIES]
    for i, (area, text) in enumerate(zip(areas, variants, strict=True)):
        hit = (df["locality"] == area) & (df["qid"] == qid)
        df.loc[hit, ["text", "route", "confidence", "suggested"]] = [text, "review", 0.11 + i / 100, "1"]
    df.to_csv(path, index=False)
    return path, df


def test_identical_answers_are_one_group(grouped):
    _, df = grouped
    assert len({normalise_answer(t) for t in df[df["confidence"].between(0.11, 0.16)]["text"]}) == 1
    review = df[df["route"] == "review"]
    groups = group_rows(review)
    assert max(len(g) for g in groups) == COPIES
    assert sum(len(g) for g in groups) == len(review)
    assert count_tasks(review) == len(groups) <= len(review) - COPIES + 1
    assert len(groups[0]) == COPIES, "the least-confident answer's group is first"


def _tasks(project: str) -> list:
    client = Client()
    return list(client.ls.tasks.list(project=find_project(client, project).id, fields="all"))


def _template_task(tasks: list):
    return next(t for t in tasks if t.data["areas"] == COPIES and "Partnership Board agreed" in t.data["text"])


def _annotate(task, codes: list[str]) -> None:
    pred = task.predictions[0]
    item = dict(pred.result[0] if isinstance(pred.result[0], dict) else pred.result[0].model_dump())
    item["value"] = {"choices": codes}
    Client().ls.annotations.create(id=task.id, result=[item], parent_prediction=pred.id, lead_time=3.0)


def _export(project: str, out: Path) -> Path:
    """The project's JSON export, as a person downloads it from Label Studio's Export button."""
    url, key = connection()
    pid = find_project(Client(), project).id
    r = httpx.get(f"{url}/api/projects/{pid}/export", params={"exportType": "JSON"},
                  headers={"Authorization": f"Token {key}"}, timeout=120)
    r.raise_for_status()
    out.write_bytes(r.content)
    return out


def test_one_decision_reaches_every_copy(label_studio, grouped, codebook, tmp_path):
    path, df = grouped
    project, store, out = "grouped", tmp_path / "annotations", tmp_path / "accepted.csv"
    review = df[df["route"] == "review"]
    n_tasks = count_tasks(review)
    r = coder("review", "push", "--suggestions", str(path), "--project", project, "--store", str(store))
    assert r.returncode == 0, r.stderr
    assert f"pushed {n_tasks} new task(s) for {len(review)} answer(s)" in r.stdout
    tasks = _tasks(project)
    assert len(tasks) == n_tasks
    group = _template_task(tasks)
    assert min(tasks, key=lambda t: t.id).id == group.id, "the least-confident answer's task comes first"
    assert f"the same answer from {COPIES} areas" in group.data["heading"]
    copies = sorted(c["locality"] for c in group.data["copies"])
    assert copies == sorted(df[df["confidence"].between(0.11, 0.16)]["locality"])

    changed = next(c for c in codebook.question(group.data["qid"]).code_values if c != "1")
    _annotate(group, [changed])
    r = coder("review", "pull", "--project", project, "--store", str(store))
    assert r.returncode == 0, r.stderr
    assert f"recorded {COPIES} new review(s)" in r.stdout
    records = ReviewStore(store).records()
    assert sorted(x["locality"] for x in records) == copies
    assert {x["codes"] for x in records} == {changed}
    assert all(x["group"]["areas"] == COPIES and x["task_id"] == group.id for x in records)

    r = coder("review", "pull", "--project", project, "--store", str(store))
    assert r.returncode == 0 and "recorded 0 new review(s)" in r.stdout, "pulling twice records nothing twice"
    assert len(ReviewStore(store).records()) == COPIES

    r = coder("accept", "--suggestions", str(path), "--store", str(store), "--out", str(out))
    assert r.returncode == 0, r.stderr
    table = read_table(out)
    human = table[table["source"] == "human"]
    assert sorted(human["locality"]) == copies
    assert set(human["codes"]) == {changed} and set(human["decided_for"]) == {str(COPIES)}
    assert set(human["agreed"]) == {"no"}

    # Pushing again adds nothing: every copy is decided by the task already queued.
    r = coder("review", "push", "--suggestions", str(path), "--project", project, "--store", str(store))
    assert r.returncode == 0 and "pushed 0 new task(s)" in r.stdout and f"{n_tasks} already" in r.stdout

    r = coder("status", "--store", str(store))
    assert r.returncode == 0, r.stderr
    line = next(x for x in r.stdout.splitlines() if "2014-05" in x)
    cells = [c.strip() for c in line.strip("│┃ ").split("│")]
    assert cells[2] == str(len(review) - COPIES) and cells[3] == str(COPIES)
    assert cells[5:7] == [str(n_tasks - 1), "1"], "status counts answers and tasks"

    # The same reviews, handed over as a Label Studio JSON export instead: recorded the same way.
    export = _export(project, tmp_path / "ls-export.json")
    other = tmp_path / "offline"
    r = coder("review", "import", "--export", str(export), "--store", str(other))
    assert r.returncode == 0, r.stderr
    assert f"recorded {COPIES} new review(s)" in r.stdout
    imported = ReviewStore(other).records()
    keep = ["locality", "qid", "codes", "suggested", "confidence", "agreed", "task_id", "lead_time"]
    as_set = sorted(tuple(str(x[k]) for k in keep) for x in imported)
    assert as_set == sorted(tuple(str(x[k]) for k in keep) for x in records)
    r = coder("review", "import", "--export", str(export), "--store", str(other))
    assert r.returncode == 0 and "recorded 0 new review(s)" in r.stdout


def test_exported_tasks_import_into_label_studio_by_hand(label_studio, grouped, codebook, tmp_path):
    path, df = grouped
    out = tmp_path / "tasks.json"
    r = coder("review", "export", "--suggestions", str(path), "--out", str(out))
    assert r.returncode == 0, r.stderr
    tasks = json.loads(out.read_text())
    assert len(tasks) == count_tasks(df[df["route"] == "review"])
    config = (tmp_path / "tasks.config.xml").read_text()
    assert config == labeling_config(codebook)
    # What the person running Label Studio does: a project with that config, then Import -> tasks.json.
    client = Client()
    proj = client.ls.projects.create(title="by hand", label_config=config)
    client.ls.projects.import_tasks(id=proj.id, request=tasks, return_task_ids=True)
    made = list(client.ls.tasks.list(project=proj.id, fields="all"))
    assert len(made) == len(tasks) and all(t.predictions for t in made)
    assert max(t.data["areas"] for t in made) == COPIES


def test_a_bad_export_is_one_clear_line(tmp_path):
    bad = tmp_path / "export.json"
    bad.write_text('{"not": "a list"}')
    r = coder("review", "import", "--export", str(bad), "--store", str(tmp_path / "a"))
    assert r.returncode == 2
    assert r.stderr.strip() == (f"error: {bad}: not a Label Studio JSON export (expected a list of tasks; "
                                f"export the project as 'JSON', not 'JSON-MIN' or CSV)")
    assert not (tmp_path / "a").exists()


def test_a_reviewer_sees_the_areas_of_a_grouped_task(label_studio, grouped, tmp_path):
    path, _ = grouped
    project = "grouped-browser"
    r = coder("review", "push", "--suggestions", str(path), "--project", project, "--store", str(tmp_path))
    assert r.returncode == 0, r.stderr
    task = _template_task(_tasks(project))
    creds = credentials_for(Path(label_studio.data_dir))
    pid = find_project(Client(), project).id
    with Browser() as browser:
        open_task_page(browser, label_studio.url, creds["username"], creds["password"], pid, task.id)
        shot = browser.screenshot(tmp_path / "label-studio-grouped-task.png")
        page_text = browser.evaluate("document.body.innerText")
    assert f"the same answer from {COPIES} areas" in page_text
    for c in task.data["copies"]:
        assert c["locality"] in page_text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "label-studio-grouped-task.png")


def test_waiting_for_label_studio_says_what_is_happening(label_studio):
    from review_server import START_ACTIVITY

    assert any(m.startswith("Starting Label Studio (") and "building its database" in m for m in START_ACTIVITY)


def test_the_install_reports_pip_progress():
    import sys
    import time

    from coder.labelstudio.server import pip_activity, run_reporting

    seen: list[str] = []
    collected: list[str] = []
    script = "print('Collecting django==5.1'); print('Collecting label-studio==1.23.2'); print('Installing ...')"
    code, tail = run_reporting([sys.executable, "-c", script],
                               lambda line: seen.append(pip_activity("installing packages", line, time.time(),
                                                                     collected)))
    assert code == 0 and tail.endswith("Installing ...")
    assert seen[-1].startswith("Installing Label Studio (0 s, 2 packages collected): installing packages")


README_COMMANDS = [
    "coder review export --suggestions suggestions.csv --out tasks.json",
    "coder review import --export ls-export.json",
    "coder accept --suggestions suggestions.csv --wide --out accepted.xlsx",
    "coder review order --suggestions suggestions.csv --out ordered.csv --order report-impact --target 2 --budget 0.25",
]


def test_the_readme_commands_run_as_written(label_studio, grouped, codebook, tmp_path):
    """The README's examples for grouped review, hand-off, wide workbooks and bounded order, run verbatim
    in a folder holding the files they name."""
    import shlex

    readme = (ROOT / "README.md").read_text()
    path, _ = grouped
    shutil.copy(path, tmp_path / "suggestions.csv")
    project = "readme"
    assert coder("review", "push", "--suggestions", "suggestions.csv", "--project", project,
                 cwd=tmp_path).returncode == 0
    task = _template_task(_tasks(project))
    _annotate(task, ["2"])
    _export(project, tmp_path / "ls-export.json")
    for command in README_COMMANDS:
        assert command in readme, command
        r = coder(*shlex.split(command)[1:], cwd=tmp_path)
        assert r.returncode == 0, (command, r.stderr)
    assert len(ReviewStore(tmp_path / "annotations").records()) == COPIES
    back = read_table(tmp_path / "accepted.xlsx").set_index("locality")
    copies = [c["locality"] for c in task.data["copies"]]
    assert list(back.loc[copies, f"Q{task.data['qid']}_code"]) == ["2"] * COPIES
    ordered = read_table(tmp_path / "ordered.csv")
    assert ordered["priority"].astype(float).is_monotonic_decreasing
