"""The command line as users and scripts call it: train / suggest / evaluate, and one-line errors with exit 2."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
from cli_runner import coder

from coder.returns import read_returns, to_wide

SAMPLE_QIDS = [3, 5, 13, 21]




@pytest.fixture(scope="module")
def sample_file(codebook, returns_path, tmp_path_factory):
    df = read_returns(returns_path, codebook)
    df = df[df["qid"].isin(SAMPLE_QIDS)]
    p = tmp_path_factory.mktemp("data") / "sample.csv"
    df.to_csv(p, index=False)
    return p


@pytest.fixture(scope="module")
def model_dir(sample_file, tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    r = coder("train", "--data", str(sample_file), "--round", "2013-06", "--model-dir", str(d))
    assert r.returncode == 0, r.stderr
    assert "saved model v1" in r.stdout
    assert "example answers from the codebook's training_examples" in r.stdout  # coder.examples
    assert "answers from the codebook's calibration_examples (never trained on" in r.stdout
    return d


def test_suggest_writes_one_row_per_answer_with_the_documented_columns(sample_file, model_dir, tmp_path):
    out = tmp_path / "suggestions.csv"
    r = coder("suggest", "--data", str(sample_file), "--model-dir", str(model_dir), "--out", str(out))
    assert r.returncode == 0, r.stderr
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:9] == ["round", "locality", "region", "qid", "text", "suggested", "confidence", "route",
                                 "model_version"]
    assert len(rows) == len(pd.read_csv(sample_file))
    assert {r["route"] for r in rows} == {"auto", "review"}
    assert "auto-coded" in r.stderr  # the summary table


def test_suggest_and_evaluate_accept_the_wide_xlsx_form(codebook, sample_file, model_dir, tmp_path):
    df = read_returns(sample_file, codebook)
    wide = to_wide(df[df["round"] == "2014-05"])
    xlsx = tmp_path / "wide.xlsx"
    wide.to_excel(xlsx, index=False)
    out = tmp_path / "s.csv"
    assert coder("suggest", "--data", str(xlsx), "--model-dir", str(model_dir), "--out", str(out)).returncode == 0
    assert len(pd.read_csv(out)) == len(df[df["round"] == "2014-05"])
    r = coder("evaluate", "--data", str(xlsx), "--model-dir", str(model_dir), "--json")
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)
    for key in ("accuracy", "macro_f1", "auto_share", "auto_precision", "ece", "weakest_questions"):
        assert key in m
    assert m["accuracy"] > 0.7 and len(m["weakest_questions"]) == 4


def _bad(tmp_path, text: str, encoding="utf-8"):
    p = tmp_path / "bad.csv"
    p.write_bytes(text.encode(encoding))
    return p


HEADER = "round,locality,region,qid,ref,text,codes,support,source_id\n"
BAD = {
    "missing column": ("round,locality,qid,text\n2013-06,Aldmoor,5,Yes\n", "column 'region'"),
    "unknown qid": (HEADER + "2013-06,Aldmoor,London,77,,Yes,1,,\n", "row 2, column 'qid'"),
    "unknown code": (HEADER + "2013-06,Aldmoor,London,5,,Yes,8,,\n", "row 2, column 'codes'"),
    "empty file": ("", "empty"),
    "duplicate rows": (HEADER + "2013-06,Aldmoor,London,5,,Yes,1,,\n2013-06,Aldmoor,London,5,,Yes,1,,\n",
                       "row 3, column 'qid'"),
    "cp1252": (HEADER + "2013-06,Aldmoor,London,5,,Yes – agreed,1,,\n", "row 2, column 'text'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(case, model_dir, tmp_path):
    text, where = BAD[case]
    p = _bad(tmp_path, text, "cp1252" if case == "cp1252" else "utf-8")
    out = tmp_path / "out.csv"
    commands = [["suggest", "--data", str(p), "--model-dir", str(model_dir), "--out", str(out)],
                ["train", "--data", str(p), "--model-dir", str(tmp_path / "m")],
                ["evaluate", "--data", str(p), "--model-dir", str(model_dir)]]
    # every command reads input the same way: check all three on two cases, `suggest` on the rest
    for args in commands if case in ("unknown code", "cp1252") else commands[:1]:
        r = coder(*args)
        assert r.returncode == 2, (args, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and str(p) in lines[0] and where in lines[0]
        assert "Traceback" not in r.stderr
    assert not out.exists() and not (tmp_path / "m").exists()


def test_a_model_directory_made_with_another_codebook_is_refused(sample_file, model_dir, tmp_path):
    import yaml

    from coder.codebook import load_codebook

    other = yaml.safe_load(open(load_codebook().path))
    for key in ("training_examples", "calibration_examples"):  # files beside the project's codebook, not copied
        other.pop(key)
    other["name"] = "another-survey"
    cb = tmp_path / "other.yaml"
    cb.write_text(yaml.safe_dump(other))
    out = tmp_path / "s.csv"
    r = coder("suggest", "--data", str(sample_file), "--model-dir", str(model_dir), "--out", str(out),
              "--codebook", str(cb))
    assert r.returncode == 2 and "trained with codebook" in r.stderr and "manifest.json" in r.stderr
    assert "Traceback" not in r.stderr and not out.exists()


def test_an_empty_model_directory_says_to_train_first(sample_file, tmp_path):
    r = coder("suggest", "--data", str(sample_file), "--model-dir", str(tmp_path), "--out", str(tmp_path / "s.csv"))
    assert r.returncode == 2 and "coder train" in r.stderr


def test_usage_errors_exit_2_without_a_traceback():
    r = coder("suggest", "--no-such-option")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_training_on_answers_without_codes_says_so(sample_file, tmp_path):
    uncoded = tmp_path / "uncoded.csv"
    pd.read_csv(sample_file, dtype=str, keep_default_na=False).assign(codes="").to_csv(uncoded, index=False)
    r = coder("train", "--data", str(uncoded), "--model-dir", str(tmp_path / "m"))
    assert r.returncode == 2 and "no row has codes" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "m").exists()


def test_suggest_wide_writes_a_workbook_that_reads_back(codebook, sample_file, model_dir, tmp_path):
    """`coder suggest ... --wide --out suggestions.xlsx`: one row per area; codes from the input and auto-coded
    answers carry their code, answers routed to review are left for review (no code)."""
    csv_out, wide_out = tmp_path / "s.csv", tmp_path / "suggestions.xlsx"
    assert coder("suggest", "--data", str(sample_file), "--model-dir", str(model_dir), "--out",
                 str(csv_out)).returncode == 0
    r = coder("suggest", "--data", str(sample_file), "--model-dir", str(model_dir), "--wide", "--out", str(wide_out))
    assert r.returncode == 0, r.stderr
    s = pd.read_csv(csv_out, dtype=str, keep_default_na=False)
    back = read_returns(wide_out, codebook)
    got = {(a, b, int(c)): d for a, b, c, d in zip(back["round"], back["locality"], back["qid"], back["codes"],
                                                   strict=True)}
    # codes a person gave in the input stay (human); else the model's code where it was confident enough
    want = {(a, b, int(c)): h or (d if route == "auto" else "") for a, b, c, d, route, h in
            zip(s["round"], s["locality"], s["qid"], s["suggested"], s["route"], s["human_codes"], strict=True)}
    assert got == want
