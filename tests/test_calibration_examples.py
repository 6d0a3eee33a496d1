"""The codebook's calibration examples: coded answers by other writers, never trained on, that show the
calibration how often the trained model is right on answers it has never seen (coder.examples,
`pipeline.calibration_points`). How a user meets them: the codebook names the file, `coder train` says how
many calibrated the model, the manifest records them; a bad file is one error naming the file, row and column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from codebook_copy import codebook_copy, first_round_sample

from coder.codebook import load_codebook
from coder.errors import InputError
from coder.examples import CALIBRATION_ROUND, read_calibration_examples, read_training_examples
from coder.model import pipeline
from coder.model.calibrate import is_long

ROOT = Path(__file__).resolve().parent.parent
QIDS = [3, 5, 13]


def codebook_with_calibration(tmp_path: Path, rows: list[dict] | None, name: str = "cal.csv") -> Path:
    """A copy of the project's codebook in `tmp_path` whose calibration examples are `rows` (or a file that
    does not exist, when `rows` is None)."""
    return codebook_copy(tmp_path, {"calibration_examples": name}, rows)


def test_the_bundled_codebook_names_calibration_answers_apart_from_its_training_examples(codebook):
    assert Path(codebook.calibration_examples).name == "stocktake-2013-calibration.csv"
    cal = read_calibration_examples(codebook)
    assert len(cal) > 0 and set(cal["round"]) == {CALIBRATION_ROUND}
    assert (cal["codes"] != "").all() and (cal["codes"] != codebook.blank_code).all()
    assert is_long(cal["text"].tolist()).mean() > 0.9  # long answers: what the held-out examples mis-calibrate
    assert not set(cal["text"]) & set(read_training_examples(codebook)["text"])  # never trained on


@pytest.fixture(scope="module")
def sample(codebook, returns_path):
    return first_round_sample(returns_path, codebook, QIDS)


def test_training_scores_the_calibration_answers_without_learning_from_them(sample, codebook, embedder):
    model = pipeline.fit_model(sample, codebook, embedder, cv=2)
    without = pipeline.fit_model(sample, codebook, embedder, cv=2, calibration_examples=False)
    cal = read_calibration_examples(codebook)
    assert model.manifest["n_calibration"] == cal["qid"].isin(QIDS).sum() > 0  # the returns' questions only
    assert 0 < model.manifest["calibration_accuracy"] <= 1
    assert without.manifest["n_calibration"] == 0 and without.manifest["calibration_hash"] == ""
    # never trained on: the same training answers and the same suggestions
    assert model.manifest["data_hash"] == without.manifest["data_hash"]
    assert model.manifest["n_train"] == without.manifest["n_train"] == len(model.oof)
    new = sample.head(40)
    a, b = pipeline.suggest(new, model, embedder), pipeline.suggest(new, without, embedder)
    assert (a["suggested"] == b["suggested"]).all()
    # ... but the long answers' calibration map learned from them
    raw = np.linspace(0.5, 1.0, 11)
    longs = np.ones(len(raw), bool)
    no = np.zeros(len(raw), bool)
    assert not np.allclose(model.calibrator.predict(raw, no, no, longs),
                           without.calibrator.predict(raw, no, no, longs))


def test_calibration_points_are_the_trained_models_scores_of_fresh_answers(sample, codebook, embedder):
    model = pipeline.fit_model(sample, codebook, embedder, cv=2, calibration_examples=False)
    fresh = pd.DataFrame({"qid": [3, 3], "codes": ["1", "0"], "text": [
        "Yes. The group is in place and has met monthly since April 2013, chaired by the joint commissioner.",
        "Yes. The group is in place and has met monthly since April 2013, chaired by the joint commissioner."]})
    raw, correct, multi, short, long = pipeline.calibration_points(fresh, model.classifier, embedder)
    s = pipeline.predict(fresh.head(1), model, embedder)
    assert raw[0] == raw[1] and list(correct) == [s["suggested"][0] == "1", s["suggested"][0] == "0"]
    assert not multi.any() and not short.any() and not long.any()


def test_a_missing_calibration_file_names_the_codebook_key(tmp_path):
    with pytest.raises(InputError, match="calibration_examples: file not found"):
        load_codebook(codebook_with_calibration(tmp_path, None))


def test_a_bad_calibration_answer_is_one_error_naming_file_row_and_column(tmp_path):
    good = {"id": "c1", "qid": 3, "codes": "1", "text": "Yes, in place."}
    cb = load_codebook(codebook_with_calibration(tmp_path, [good, {**good, "id": "c2", "codes": "9"}]))
    with pytest.raises(InputError) as e:
        read_calibration_examples(cb)
    assert (e.value.row, e.value.column) == (3, "codes") and str(e.value).startswith(str(tmp_path / "cal.csv"))
