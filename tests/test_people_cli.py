"""The update round from the command line, as the README runs it on the bundled data, and the demo's part 2."""

from __future__ import annotations

import shutil
from pathlib import Path

from review_fixtures import coder

from coder.returns import read_table

ROOT = Path(__file__).resolve().parent.parent


def test_readme_update_round_commands(tmp_path):
    # the README's paths, relative to a copy of the bundled data
    (tmp_path / "coder" / "data").mkdir(parents=True)
    shutil.copy(ROOT / "coder" / "data" / "updates.csv", tmp_path / "coder" / "data" / "updates.csv")
    shutil.copytree(ROOT / "coder" / "data" / "updates-gold", tmp_path / "coder" / "data" / "updates-gold")
    data, gold = "coder/data/updates.csv", "coder/data/updates-gold"
    r = coder("people", "train", "--data", data, "--gold", gold, "--model-dir", "models-2014/", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "saved model v1-" in r.stdout
    r = coder("people", "--data", data, "--model-dir", "models-2014/", "--out", "people.csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    people, areas = read_table(tmp_path / "people.csv"), read_table(tmp_path / "people-areas.csv")
    assert len(areas) == 85 and len(people) >= 400
    assert {"person", "status", "status_confidence", "care_package", "reasons", "est_discharge", "evidence",
            "route"} <= set(people.columns)
    langbury = areas.set_index("locality").loc["Langbury"]
    assert langbury["counts_consistent"] == "no" and langbury["route"] == "review", \
        "a count that disagrees with the people listed goes to review, unreconciled"
    assert "review: Langbury: discharged: text says 3" in r.stdout
    r = coder("people", "report", "--people", "people.csv", "--areas", "people-areas.csv", "--out", "report-2014/",
              cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    index = (tmp_path / "report-2014" / "index.html").read_text()
    assert "Discharged by June 2014 against the cohort" in index and "data:image/png;base64," in index
    assert "Reasons for not being discharged by June 2014" in index and "Care package mix" in index
    assert "Local area plans signed off by the Health and Wellbeing Board" in index
    assert (tmp_path / "report-2014" / "areas" / "langbury.html").exists()
    assert (tmp_path / "report-2014" / "tables" / "reasons.csv").exists()


def test_people_without_data_names_what_is_missing(tmp_path):
    r = coder("people", "--model-dir", "m", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().startswith("error: coder people needs --data, --out")


def test_updates_file_without_text_is_one_line(tmp_path):
    (tmp_path / "u.csv").write_text("round,locality,region\n2014-05,X,London\n")
    r = coder("people", "--data", "u.csv", "--model-dir", "m", "--out", "p.csv", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip() == "error: u.csv, column 'text': missing column 'text' (an updates file has round, " \
                               "locality, region, text)"
    assert not (tmp_path / "p.csv").exists()


def test_demo_part_two_runs_the_update_round(tmp_path):
    from coder.people.demo import run_update_demo

    out = run_update_demo(tmp_path / "demo")
    assert out["person records found (F1)"] >= 0.9
    assert (out["report"] / "index.html").exists() and out["people"].exists()
