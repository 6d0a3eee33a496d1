"""The codebook's training examples: coded answers in other styles than the returns, trained on beside them
(coder.examples). How a user meets them: the codebook names the file, `coder train` says how many it used,
and the manifest records them; a bad examples file is one error naming the file, row and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from codebook_copy import codebook_copy, first_round_sample

from coder.codebook import load_codebook
from coder.errors import InputError
from coder.examples import EXAMPLES_ROUND, SOURCE_PREFIX, read_training_examples
from coder.model import pipeline

ROOT = Path(__file__).resolve().parent.parent
QIDS = [3, 5, 13]


def test_the_bundled_codebook_names_its_examples_and_they_read_as_coded_answers(codebook):
    assert Path(codebook.training_examples).name == "stocktake-2013-examples.csv"
    ex = read_training_examples(codebook)
    assert len(ex) > 0 and set(ex["round"]) == {EXAMPLES_ROUND}
    assert ex["source_id"].str.startswith(SOURCE_PREFIX).all() and ex["source_id"].is_unique  # own held-out groups
    assert (ex["text"] != "").all() and (ex["codes"] != "").all() and (ex["codes"] != codebook.blank_code).all()
    assert set(ex["qid"]) == {q.id for q in codebook.questions}  # every question has examples


def codebook_with(tmp_path: Path, examples: str | None, rows: list[dict] | None = None) -> Path:
    """A copy of the project's codebook in `tmp_path` naming `examples` (a file written there from `rows`); its
    calibration answers are tested in test_calibration_examples.py."""
    return codebook_copy(tmp_path, {"calibration_examples": None, "training_examples": examples}, rows)


def test_a_codebook_without_examples_trains_on_the_returns_alone(tmp_path):
    cb = load_codebook(codebook_with(tmp_path, None))
    assert cb.training_examples == "" and read_training_examples(cb).empty


def test_the_examples_file_is_found_beside_the_codebook(tmp_path):
    rows = [{"id": "a1", "qid": 3, "codes": "1", "text": "Yes - the group meets monthly.", "style": "terse"},
            {"id": "a2", "ref": "1.5", "codes": "0", "text": "Not yet.", "note": "nothing in place"}]
    cb = load_codebook(codebook_with(tmp_path, "mine.csv", rows))
    ex = read_training_examples(cb)
    assert list(ex["qid"]) == [3, 5] and list(ex["codes"]) == ["1", "0"]
    assert list(ex["source_id"]) == ["example:a1", "example:a2"]


def test_a_missing_examples_file_names_the_codebook_key(tmp_path):
    with pytest.raises(InputError, match="training_examples: file not found"):
        load_codebook(codebook_with(tmp_path, "gone.csv"))


@pytest.mark.parametrize("row, column, says", [
    ({"qid": 99}, "qid", "unknown question '99'"),
    ({"codes": "7"}, "codes", "not a code of question 3"),
    ({"codes": ""}, "codes", "needs the answer's code"),
    ({"codes": "NR"}, "codes", "needs the answer's code"),
    ({"text": ""}, "codes", "a blank answer coded"),
])
def test_a_bad_example_is_one_error_naming_file_row_and_column(tmp_path, row, column, says):
    good = {"id": "a1", "qid": 3, "codes": "1", "text": "Yes."}
    cb = load_codebook(codebook_with(tmp_path, "ex.csv", [good, {**good, "id": "a2", **row}]))
    with pytest.raises(InputError) as e:
        read_training_examples(cb)
    assert (e.value.row, e.value.column) == (3, column) and says in str(e.value)
    assert str(e.value).startswith(str(tmp_path / "ex.csv"))


def test_an_examples_file_without_codes_says_which_column_is_missing(tmp_path):
    cb = load_codebook(codebook_with(tmp_path, "ex.csv", [{"qid": 3, "text": "Yes."}]))
    with pytest.raises(InputError, match="missing column 'codes'"):
        read_training_examples(cb)


@pytest.fixture(scope="module")
def sample(codebook, returns_path):
    return first_round_sample(returns_path, codebook, QIDS)


def test_training_learns_from_the_examples_of_the_returns_questions_only(sample, codebook, embedder):
    model = pipeline.fit_model(sample, codebook, embedder, cv=2)
    ex = read_training_examples(codebook)
    own = pipeline.training_rows(sample, codebook.blank_code)
    assert model.manifest["n_examples"] == ex["qid"].isin(QIDS).sum() > 0
    assert model.manifest["n_train"] == len(own) + model.manifest["n_examples"]
    # the held-out figures are the returns' own, comparable with a model trained without examples
    assert model.manifest["metrics"]["n"] == len(own)
    # every example was held out once and scored, so calibration and thresholds saw those styles
    assert len(model.oof) == model.manifest["n_train"]
    without = pipeline.fit_model(sample, codebook, embedder, cv=2, training_examples=False)
    assert without.manifest["n_examples"] == 0 and without.manifest["n_train"] == len(own)
    assert without.manifest["data_hash"] != model.manifest["data_hash"]
