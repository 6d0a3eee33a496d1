"""The style-shift answer files (the development set, and the codebook's training examples and calibration
answers written the same way) are checked the way their README says: every row parses, every code is a code
of its question in the codebook, and no answer copies another answer set."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "bench" / "styleshift_check.py"


def check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK), str(path)], capture_output=True, text=True, timeout=300)


EXAMPLES = ROOT / "codebook" / "stocktake-2013-examples.csv"


def test_the_training_examples_parse_cover_every_code_and_copy_no_other_set():
    out = check(EXAMPLES)
    assert out.returncode == 0, out.stderr
    assert "every (qid, code) is in codebook stocktake-2013" in out.stdout
    assert "questions: 61 of 61; codes as gold: 272 of 272; missing: []" in out.stdout
    assert "with another set: 0" in out.stdout  # nothing shared with the held-out test set above all


CALIBRATION = ROOT / "codebook" / "stocktake-2013-calibration.csv"


def test_the_calibration_answers_parse_cover_every_question_and_copy_no_other_set():
    out = check(CALIBRATION)
    assert out.returncode == 0, out.stderr
    assert "questions: 61 of 61;" in out.stdout
    assert "with another set: 0" in out.stdout  # not the training examples', not the test set's


@pytest.mark.parametrize("row, message", [
    ({"qid": 3, "codes": "7"}, "code '7' is not a code of question 3"),
    ({"qid": 3, "codes": "1;3"}, "takes one code"),
    ({"qid": 2, "codes": "5;3"}, "not in canonical form '3;5'"),
    ({"qid": 3, "codes": "NR"}, "gold NR on a written answer"),
])
def test_a_bad_row_is_one_line_naming_file_and_row(tmp_path, row, message):
    good = {"id": "x-1", "qid": 3, "codes": "1", "style": "terse", "text": "Yes.", "note": "yes"}
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "id": "x-2", **row}) + "\n", encoding="utf-8")
    out = check(path)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [out.stderr.strip()]
    assert f"{path}: row 2: " in out.stderr and message in out.stderr
