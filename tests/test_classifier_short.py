"""Short answers ("Not sure.", "Nope.", "Done.") take their stance from a model of their own, trained on
the short training answers plus the codebook's generic `stance_examples`; longer answers are unaffected."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from classifier_fit import fitted, question_rows

from coder.codebook import load_codebook
from coder.errors import InputError
from coder.model import pipeline
from coder.model.answers import Answers
from coder.model.classify import codebook_params
from coder.model.short import ShortStanceModel, is_short
from coder.returns import read_returns

QIDS = [21, 25, 47]  # questions with a No, a Yes and a Not clear code


@pytest.fixture(scope="module")
def rows(codebook, returns_path):
    return question_rows(codebook, returns_path, QIDS)


def answers(texts, qid, embedder):
    return Answers(list(texts), np.full(len(texts), qid), embedder.encode(list(texts)))


def stance_of_best_code(clf, codebook, text, qid, embedder):
    probs = clf.predict_proba(answers([text], qid, embedder))[0]
    best = max(probs, key=probs.get)
    return {c.code: c.stance for c in codebook.question(qid).codes}[best]


def test_the_codebook_lists_generic_short_answers_per_stance(codebook):
    examples = codebook.stance_example_map
    assert {"no", "yes", "unclear", "underway"} <= set(examples)
    assert "Not sure" in examples["unclear"] and "Nope" in examples["no"]


def test_short_answers_outside_the_training_vocabulary_get_their_stance(rows, codebook, embedder):
    clf = fitted(rows, codebook, embedder)
    assert stance_of_best_code(clf, codebook, "Not sure.", 25, embedder) == "unclear"
    assert stance_of_best_code(clf, codebook, "Nope.", 25, embedder) == "no"
    assert stance_of_best_code(clf, codebook, "Yep, in place.", 47, embedder) == "yes"


def test_answers_longer_than_short_words_are_scored_exactly_as_without_the_short_model(rows, codebook, embedder):
    with_short, without = fitted(rows, codebook, embedder), fitted(rows, codebook, embedder, short_words=0)
    X = Answers(rows["text"].tolist(), rows["qid"].to_numpy(), embedder.encode(rows["text"].tolist()))
    long_rows = np.flatnonzero(~is_short(X.texts, with_short.short_words))
    a, b = with_short.predict_proba(X[long_rows]), without.predict_proba(X[long_rows])
    assert len(long_rows) > 100 and all(p == pytest.approx(q) for p, q in zip(a, b, strict=True))


def test_the_short_model_alone_learns_from_examples_and_only_reads_short_answers():
    m = ShortStanceModel(max_words=4).fit(
        ["Yes, agreed.", "No plans at this stage.", "Not clear from the return at all, sadly."],
        ["yes", "no", "unclear"],
        {"unclear": ["Not sure", "Don't know"], "no": ["Nope", "Not yet"], "yes": ["Yep", "Done"]})
    P = m.predict_proba(["dont know", "nope", "yep"], ["no", "unclear", "yes", "underway"])
    assert list(P.argmax(axis=1)) == [1, 0, 2]
    assert np.allclose(P.sum(axis=1), 1.0) and (P[:, 3] < 0.01).all()  # never saw underway
    assert "sadly" not in m.word_.vocabulary_  # the long answer was not trained on


def test_a_saved_model_records_that_its_examples_come_from_the_codebook(returns_path, codebook, embedder, tmp_path):
    df = read_returns(returns_path, codebook)
    model = pipeline.train(df[df["qid"].isin(QIDS)], codebook, tmp_path, embedder, cv=2)
    assert model.manifest["classifier_params"]["stance_examples"] == "codebook"
    reopened = pipeline.open_model(tmp_path, codebook)  # the short model is a trusted type
    assert reopened.classifier.short_ is not None
    assert codebook_params(codebook, {"stance_examples": "codebook"})["stance_examples"] == \
        codebook.stance_example_map


def test_stance_examples_are_optional_in_a_codebook(tmp_path):
    p = tmp_path / "survey.yaml"
    p.write_text(yaml.safe_dump({"name": "s", "questions": [
        {"id": 1, "text": "Do you have a plan?", "codes": [{"code": 0, "label": "No"}, {"code": 1, "label": "Yes"}]}]}))
    cb = load_codebook(p)
    assert cb.stance_examples == () and codebook_params(cb)["stance_examples"] is None


@pytest.mark.parametrize("examples, key", [
    (["Not sure"], "stance_examples"),
    ({"maybe": ["Perhaps"]}, "stance_examples.maybe"),
    ({True: ["Yep"]}, "stance_examples.True"),  # an unquoted `yes:` key is read as true
    ({"no": []}, "stance_examples.no"),
    ({"no": ["Nope", None]}, "stance_examples.no[1]"),
])
def test_bad_stance_examples_name_the_key(tmp_path, examples, key):
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump({"name": "s", "stance_examples": examples, "questions": [
        {"id": 1, "text": "q", "codes": [{"code": 0, "label": "No"}]}]}))
    with pytest.raises(InputError) as e:
        load_codebook(p)
    assert str(p) in str(e.value) and key in str(e.value)
