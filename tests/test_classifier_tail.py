"""Long answers whose status comes last: the stance of the final sentences is mixed with the whole
answer's, so paragraphs of background do not drown "a first draft is being prepared"."""

from __future__ import annotations

import numpy as np
import pytest
from classifier_fit import fitted, question_rows

from coder.model.answers import Answers
from coder.model.sentences import tails, word_count

BACKGROUND = ("The partnership between the Council and the CCG goes back to 2009, when a joint commissioning "
              "board was set up for adult social care. Budgets for learning disability services have been "
              "pooled for several years and the board receives quarterly reports on spend and activity. "
              "The area has around 900 adults known to services, most living in supported housing, and a "
              "small number placed out of area by specialist commissioners. Finance leads meet monthly. ")
STATUS = "A joint plan for this is being drafted now and has not yet been agreed by the board."


@pytest.fixture(scope="module")
def rows(codebook, returns_path):
    return question_rows(codebook, returns_path, [3, 5, 16])


def test_tails_are_the_last_sentences_of_at_least_so_many_words():
    [tail] = tails([BACKGROUND + STATUS], 10)
    assert tail == STATUS
    [tail] = tails([BACKGROUND + STATUS], 20)  # the status has 17 words: one more sentence
    assert tail.endswith(STATUS) and word_count(tail) >= 20 and tail.startswith("Finance leads")
    assert tails(["Short."], 40) == ["Short."]


def test_a_status_after_background_moves_a_long_answer_towards_its_stance(rows, codebook, embedder):
    text = BACKGROUND * 2 + STATUS
    assert word_count(text) > 100
    X = Answers([text], np.array([5]), embedder.encode([text]))
    on, off = fitted(rows, codebook, embedder), fitted(rows, codebook, embedder, tail_weight=0.0)
    underway = [c.code for c in codebook.question(5).codes if c.stance == "underway"]
    p_on, p_off = on.predict_proba(X)[0], off.predict_proba(X)[0]
    assert sum(p_on[c] for c in underway) > sum(p_off[c] for c in underway)


def test_answers_up_to_tail_over_words_are_scored_as_without_it(rows, codebook, embedder):
    on, off = fitted(rows, codebook, embedder), fitted(rows, codebook, embedder, tail_weight=0.0)
    X = Answers(rows["text"].tolist(), rows["qid"].to_numpy(), embedder.encode(rows["text"].tolist()))
    keep = np.flatnonzero([word_count(t) <= on.tail_over for t in X.texts])
    assert all(p == pytest.approx(q) for p, q in zip(on.predict_proba(X[keep]), off.predict_proba(X[keep]),
                                                     strict=True))
