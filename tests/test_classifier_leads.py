"""Terse answers ("Working on it", "None known.") are read from the short status clauses training answers
open with ("Working on it - tender out now."), not taken for the question's vague short answers."""

from __future__ import annotations

import numpy as np
import pytest
from classifier_fit import fitted, question_rows

from coder.model.answers import Answers
from coder.model.leads import lead_clause, with_leads

QIDS = [8, 27, 56, 58]  # each with a No, a Yes and a Not clear code


@pytest.fixture(scope="module")
def rows(codebook, returns_path):
    return question_rows(codebook, returns_path, QIDS)


def best_label(clf, codebook, text, qid, embedder):
    probs = clf.predict_proba(Answers([text], np.array([qid]), embedder.encode([text])))[0]
    best = max(probs, key=probs.get)
    return {c.code: c.label for c in codebook.question(qid).codes}[best]


def test_the_lead_clause_is_the_short_status_an_answer_opens_with():
    assert lead_clause("Working on it - tender out now.", 6) == "Working on it"
    assert lead_clause("Yes, through the joint board.", 6) == "Yes"
    assert lead_clause("Not at present. The CCG is reviewing it.", 6) == "Not at present"
    assert lead_clause("Working on it", 6) is None  # nothing follows: already a short answer
    assert lead_clause("The council and the CCG have agreed a plan, signed in May.", 6) is None  # too long


def test_training_answers_carry_their_lead_clauses_through_slicing(rows, embedder):
    X = Answers(rows["text"].tolist(), rows["qid"].to_numpy(), embedder.encode(rows["text"].tolist()))
    with_leads(X, embedder, 6)
    have = [i for i, lead in enumerate(X.leads) if lead]
    assert len(have) > 20
    sub = X[np.array(have[:3])]
    assert sub.leads == [X.leads[i] for i in have[:3]]
    assert np.allclose(sub.lead_emb, embedder.encode(sub.leads))
    assert not X.lead_emb[[i for i, lead in enumerate(X.leads) if not lead]].any()


def test_terse_answers_are_coded_by_what_they_say(rows, codebook, embedder):
    with_leads_, without = fitted(rows, codebook, embedder), fitted(rows, codebook, embedder, lead_weight=0)
    cases = [("Working on it", 58, "In progress / under review"), ("None known.", 8, "No"),
             ("Don't think so", 56, "No"), ("Yes via POhWER", 27, "Yes")]
    for text, qid, label in cases:
        assert best_label(with_leads_, codebook, text, qid, embedder) == label, text
    # without the lead clauses every one of them looks like the questions' vague short answers
    assert all(best_label(without, codebook, t, q, embedder) == "Not clear" for t, q, _ in cases)


def test_answers_longer_than_short_words_are_scored_exactly_as_without_lead_clauses(rows, codebook, embedder):
    with_leads_, without = fitted(rows, codebook, embedder), fitted(rows, codebook, embedder, lead_weight=0)
    X = Answers(rows["text"].tolist(), rows["qid"].to_numpy(), embedder.encode(rows["text"].tolist()))
    long_rows = np.array([i for i, t in enumerate(X.texts) if len(t.split()) > with_leads_.short_words])
    a, b = with_leads_.predict_proba(X[long_rows]), without.predict_proba(X[long_rows])
    assert len(long_rows) > 100 and all(p == pytest.approx(q) for p, q in zip(a, b, strict=True))
