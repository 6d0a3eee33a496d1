"""Each single-code question's word head: a logistic regression over the TF-IDF words its own answers use,
multiplied into the stance x embedding-head product, so a question's own vocabulary ("co-located", "s117")
counts where the embedding blurs it."""

from __future__ import annotations

import numpy as np
import pytest
from classifier_fit import fitted, question_rows

from coder.model.answers import Answers

QIDS = [3, 5, 16, 2]  # question 2 is multi-code: its models already read the words


@pytest.fixture(scope="module")
def rows(codebook, returns_path):
    return question_rows(codebook, returns_path, QIDS)


@pytest.fixture(scope="module")
def on(rows, codebook, embedder):
    return fitted(rows, codebook, embedder)


@pytest.fixture(scope="module")
def off(rows, codebook, embedder):
    return fitted(rows, codebook, embedder, word_head_weight=0.0)


def test_every_single_code_question_gets_a_word_head_over_the_words_its_answers_use(on, off, rows):
    assert sorted(on.word_heads_) == ["16", "3", "5"] and off.word_heads_ == {}
    T = on._tfidf(rows["text"].tolist())
    for qid, (cols, model) in on.word_heads_.items():
        used = np.unique(T[np.flatnonzero(rows["qid"].to_numpy() == int(qid))].indices)
        assert np.array_equal(cols, used) and model.coef_.shape[1] == len(cols) < T.shape[1]


def test_the_word_head_multiplies_into_the_product_with_its_weight_half_for_short_answers(on, off, rows, embedder):
    single = rows[rows["qid"] != 2].head(40)
    texts = single["text"].tolist() + ["Yes, in place.", "Not yet."]
    X = Answers(texts, np.r_[single["qid"].to_numpy(), [3, 5]], embedder.encode(texts))
    short = on.short_answers(X)
    assert short.sum() >= 2 and (~short).sum() >= 30
    T = on._tfidf(X.texts)
    for i, (p_on, p_off) in enumerate(zip(on.predict_proba(X), off.predict_proba(X), strict=True)):
        cols, model = on.word_heads_[str(X.qids[i])]
        words = dict(zip(model.classes_, model.predict_proba(T[i][:, cols])[0], strict=True))
        w = on.word_head_weight * (0.5 if short[i] else 1.0)
        expected = {c: p_off[c] * max(words.get(c, 0.0), 1e-4) ** w for c in p_off}
        total = sum(expected.values())
        assert p_on == pytest.approx({c: v / total for c, v in expected.items()}, rel=1e-6, abs=1e-9)


def test_multi_code_answers_are_scored_as_without_it(on, off, rows, embedder):
    multi = rows[rows["qid"] == 2]
    X = Answers(multi["text"].tolist(), multi["qid"].to_numpy(), embedder.encode(multi["text"].tolist()))
    assert all(p == pytest.approx(q) for p, q in zip(on.predict_proba(X), off.predict_proba(X), strict=True))
