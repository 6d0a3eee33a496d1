"""Person records reviewed in a real Label Studio: push, annotate through the API as the labeling page does,
pull, accept. Until a trained model writes people.csv here, the gold records stand in for the model's output
(a few codes and dates changed, confidences made up), as the review tests for answers do."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from review_fixtures import coder

from coder.codebook import load_codebook
from coder.labelstudio.client import Client
from coder.labelstudio.projects import find_project
from coder.people.tasks import labeling_config
from coder.returns import read_table
from coder.spreadsheet import write_csv_atomic

pytest_plugins = ["review_server"]
ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "coder" / "data" / "updates-gold"


@pytest.fixture(scope="module")
def update_codebook():
    return load_codebook(ROOT / "codebook" / "update-2014.yaml")


def people_file(tmp_path: Path) -> Path:
    """people.csv as `coder people` writes it, for two areas; every record of Goldstow goes to review."""
    gold = read_table(GOLD / "people.csv")
    areas = read_table(ROOT / "coder" / "data" / "updates.csv").set_index("locality")
    df = gold[gold["locality"].isin(["Goldstow", "Hartborough"])].copy()
    df.insert(0, "round", "2014-05")
    df.insert(2, "region", df["locality"].map(areas["region"]))
    for i, c in enumerate(("status", "care_package", "reasons")):
        df[f"{c}_confidence"] = [0.5 + 0.01 * (i + k) for k in range(len(df))]
    df["route"] = ["review" if loc == "Goldstow" else "auto" for loc in df["locality"]]
    df["review_why"] = ""
    df["model_version"] = "fixture-gold"
    df.loc[df["person"] == "Person E", "est_discharge"] = "2014-10"  # the "model" misread a date
    path = tmp_path / "people.csv"
    write_csv_atomic(df, path)
    write_csv_atomic(pd.DataFrame([area_row("Goldstow", "London", ("3", "3", "2")),
                                   area_row("Hartborough", "East", ("2", "2", "0"))]), tmp_path / "people-areas.csv")
    return path


def area_row(locality: str, region: str, counts: tuple[str, str, str]) -> dict:
    return {"round": "2014-05", "locality": locality, "region": region, "discharged_count": counts[0],
            "in_hospital_count": counts[1], "not_by_june_count": counts[2], "listed_discharged": 3,
            "listed_in_hospital": 3, "listed_not_by_june": 2, "counts_consistent": "yes", "plan_status": "4",
            "plan_confidence": 0.9, "plan_evidence": "", "route": "auto", "review_why": "", "model_version": "x"}


def tasks_of(project: str) -> list:
    client = Client()
    return list(client.ls.tasks.list(project=find_project(client, project).id, fields="all"))


def annotate(task, changes: dict[str, object]) -> None:
    """Submit the prediction's result with some fields changed, as a reviewer does on the labeling page."""
    pred = task.predictions[0]
    result = []
    for item in pred.result:
        item = dict(item if isinstance(item, dict) else item.model_dump())
        if item["from_name"] in changes:
            v = changes[item["from_name"]]
            item["value"] = {"choices": v} if item["type"] == "choices" else {"text": [v]}
        result.append(item)
    for name, v in changes.items():
        if name not in {i["from_name"] for i in result}:
            result.append({"from_name": name, "to_name": "evidence", "type": "textarea", "value": {"text": [v]}})
    Client().ls.annotations.create(id=task.id, result=result, parent_prediction=pred.id, lead_time=3.0)


def test_labeling_config_comes_from_the_codebook(update_codebook):
    xml = labeling_config(update_codebook)
    assert '<Choices name="q5"' in xml and 'choice="single"' in xml
    assert '<Choices name="q6" toName="evidence" choice="multiple"' in xml
    assert 'alias="9"' in xml and "Planned transition runs beyond June" in xml
    assert '<TextArea name="q8"' in xml and "YYYY-MM" in xml
    assert '<TextArea name="q1"' in xml and "Area count Q3" in xml, "the counts are editable"
    assert "background: #fff4c2" in xml, "the evidence is highlighted"


def test_person_review_round_trip(label_studio, update_codebook, tmp_path):
    people = people_file(tmp_path)
    store, out = tmp_path / "annotations", tmp_path / "accepted.csv"
    project = "people round trip"
    r = coder("people", "push", "--people", str(people), "--project", project)
    assert r.returncode == 0, r.stderr
    n_review = int((read_table(people)["route"] == "review").sum())
    assert f"pushed {n_review} new task(s)" in r.stdout
    again = coder("people", "push", "--people", str(people), "--project", project)
    assert "pushed 0 new task(s)" in again.stdout, "a re-run never duplicates a task"

    tasks = {t.data["person"]: t for t in tasks_of(project)}
    assert len(tasks) == n_review
    e = tasks["Person E"]
    assert e.data["evidence"].startswith("Person E is detained under section 37/41")
    pre = {i["from_name"]: i["value"] for i in (dict(x) if isinstance(x, dict) else x.model_dump()
                                                  for x in e.predictions[0].result)}
    assert pre["q5"] == {"choices": ["0"]} and pre["q7"] == {"choices": ["2"]}, "the codes are pre-selected"
    assert pre["q8"] == {"text": ["2014-10"]}, "the date is pre-filled and editable"
    assert pre["q2"] == {"text": ["3"]}, "the area's counts are pre-filled and editable"
    assert "in hospital: text 3, listed 3" in e.data["counts"]

    annotate(tasks["Person A"], {})  # agreed
    annotate(e, {"q8": "2014-11", "q6": ["7"], "q2": "4"})  # the reviewer corrects date, package and a count
    annotate(tasks["Person B"], {"q8": "Dec 2013"})  # not a month: reported, not recorded

    r = coder("people", "pull", "--project", project, "--store", str(store))
    assert r.returncode == 1, "an annotation that could not be recorded is reported"
    assert "'Dec 2013' is not a month" in r.stderr and "Person B" in r.stderr
    assert "recorded 2 new person review(s)" in r.stdout
    r = coder("people", "pull", "--project", project, "--store", str(store))
    assert "recorded 0 new person review(s)" in r.stdout

    r = coder("people", "accept", "--people", str(people), "--store", str(store), "--out", str(out))
    assert r.returncode == 0, r.stderr
    acc = read_table(out).set_index("person")
    assert (acc.loc["Person E", "est_discharge"], acc.loc["Person E", "care_package"]) == ("2014-11", "7")
    assert acc.loc["Person E", "source"] == "human" and acc.loc["Person E", "reviewer"] == label_studio.username
    assert acc.loc["Person A", "source"] == "human"
    assert acc.loc["Person B", "source"] == "pending" and acc.loc["Person B", "est_discharge"] == "2013-12"
    assert set(acc.loc[acc["locality"] == "Hartborough", "source"]) == {"auto"}
    areas = read_table(tmp_path / "accepted-areas.csv").set_index("locality")
    assert (areas.loc["Goldstow", "in_hospital_count"], areas.loc["Goldstow", "counts_source"]) == ("4", "human")
    assert areas.loc["Hartborough", "counts_source"] == "text"


def test_a_bad_date_in_a_people_file_is_one_line(tmp_path, update_codebook):
    people = people_file(tmp_path)
    df = read_table(people)
    df.loc[2, "est_discharge"] = "2014-13"
    write_csv_atomic(df, people)
    r = coder("people", "accept", "--people", str(people), "--store", str(tmp_path / "none"), "--out",
              str(tmp_path / "acc.csv"))
    assert r.returncode == 2
    assert r.stderr.strip() == f"error: {people}, row 4, column 'est_discharge': '2014-13' is not a month " \
                               "(write YYYY-MM, e.g. 2014-09)"
    assert not (tmp_path / "acc.csv").exists(), "nothing is written"


def test_a_bad_count_in_an_areas_file_is_one_line(tmp_path):
    people = people_file(tmp_path)
    areas = pd.DataFrame([area_row("Goldstow", "London", ("3", "three", ""))])
    write_csv_atomic(areas, tmp_path / "areas.csv")
    r = coder("people", "report", "--people", str(people), "--areas", str(tmp_path / "areas.csv"), "--out",
              str(tmp_path / "report"))
    assert r.returncode == 2
    assert "areas.csv, row 2, column 'in_hospital_count': 'three' is not a count of people" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "report").exists()
