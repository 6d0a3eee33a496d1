"""Multi-code questions (Q2 partners, Q48 obstacles) get one binary model per code. Most codes are named
by a minority of answers, so unweighted models rarely reach 0.5 for them: codes went missing and their
Appendix 3b percentages came out low. Balanced class weights (`multi_class_weight`) let them through."""

from __future__ import annotations

import pytest
from classifier_fit import fitted, question_rows

from coder.model.answers import Answers
from coder.model.classify import decide

QIDS = [2, 48]


@pytest.fixture(scope="module")
def rounds(codebook, returns_path):
    rows = question_rows(codebook, returns_path, QIDS)
    return rows[rows["round"] == "2013-06"], rows[rows["round"] == "2014-05"]


@pytest.fixture(scope="module")
def balanced(rounds, codebook, embedder):
    return fitted(rounds[0], codebook, embedder)


def counts(model, test, codebook, embedder) -> tuple[int, int, int]:
    """True positives, false positives and false negatives over every code of every answer."""
    X = model.prepare(Answers(test["text"].tolist(), test["qid"].to_numpy(), embedder.encode(test["text"].tolist())),
                      embedder)
    tp = fp = fn = 0
    for probs, qid, gold in zip(model.predict_proba(X), test["qid"], test["codes"], strict=True):
        given = set(codebook.parse_codes(qid, gold))
        chosen = set(codebook.parse_codes(qid, decide(probs, multi=True)[0]))
        tp, fp, fn = tp + len(given & chosen), fp + len(chosen - given), fn + len(given - chosen)
    return tp, fp, fn


def test_balanced_per_code_models_miss_fewer_codes_and_keep_the_code_counts_closer(balanced, rounds, codebook,
                                                                                   embedder):
    train, test = rounds
    tp, fp, fn = counts(balanced, test, codebook, embedder)
    tp0, fp0, fn0 = counts(fitted(train, codebook, embedder, multi_class_weight=None), test, codebook, embedder)
    assert fn < fn0  # fewer codes missed
    assert 2 * tp / (2 * tp + fp + fn) > 2 * tp0 / (2 * tp0 + fp0 + fn0)  # per-code F1 up
    assert abs(fp - fn) < abs(fp0 - fn0)  # codes suggested about as often as analysts gave them


def test_each_code_model_is_weighted_balanced_by_default(balanced):
    heads = [h for q in balanced.multi_heads_.values() for h in q.values() if not isinstance(h, float)]
    assert heads and all(h.class_weight == "balanced" for h in heads)
