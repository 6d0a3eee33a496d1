"""Negation scope for the stance model (`negation=True`, off by default: README, fifth pass): the words a
"not" governs are marked, so "advocacy is not something the area has commissioned" leans to *no* although
"commissioned" alone reads as a *yes*."""

from __future__ import annotations

import numpy as np
import pytest
from classifier_fit import fitted, question_rows

from coder.model.answers import Answers
from coder.model.features import mark_negation


@pytest.fixture(scope="module")
def rows(codebook, returns_path):
    return question_rows(codebook, returns_path, [5, 16, 27, 45])


def test_a_negation_marks_the_words_it_governs_up_to_punctuation_or_a_contrast():
    assert mark_negation("No gaps raised, but the contract is under review.") == \
        "no gaps neg_gaps raised neg_raised but the contract is under review"
    assert mark_negation("We don't have a plan yet; work starts in May.") == \
        "we don't have neg_have a neg_a plan neg_plan yet neg_yet work starts in may"
    assert mark_negation("Agreed in April 2013.") == "agreed in april 2013"
    assert mark_negation("") == ""


def test_a_second_negation_inside_a_scope_ends_it():
    assert mark_negation("It is not the case that no register exists") == \
        "it is not the neg_the case neg_case that neg_that no register exists"


def test_a_negated_statement_moves_towards_no(rows, codebook, embedder):
    text = "Advocacy is not something the area has commissioned for people in hospital placements."
    X = Answers([text], np.array([27]), embedder.encode([text]))
    on, off = fitted(rows, codebook, embedder, negation=True), fitted(rows, codebook, embedder)
    no = [c.code for c in codebook.question(27).codes if c.stance == "no"]
    assert sum(on.predict_proba(X)[0][c] for c in no) > sum(off.predict_proba(X)[0][c] for c in no)


def test_only_the_word_features_read_the_marks(rows, codebook, embedder):
    on, off = fitted(rows, codebook, embedder, negation=True), fitted(rows, codebook, embedder)
    assert any(t.startswith("neg_") for t in on.word_.vocabulary_)
    assert not any(t.startswith("neg_") for t in off.word_.vocabulary_)
    assert on.char_.vocabulary_ == off.char_.vocabulary_


def test_a_model_saved_before_negation_scores_as_it_did(rows, codebook, embedder):
    """Models saved before `negation` existed have no such attribute: they read the texts unmarked."""
    old = fitted(rows, codebook, embedder, negation=False)
    X = Answers(rows["text"].tolist()[:20], rows["qid"].to_numpy()[:20], embedder.encode(rows["text"].tolist()[:20]))
    before = old.predict_proba(X)
    del old.negation
    assert all(p == pytest.approx(q) for p, q in zip(old.predict_proba(X), before, strict=True))
