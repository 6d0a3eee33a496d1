"""Answers written in other styles: shorthand, restated questions, long answers, sentence pooling, novelty."""

from __future__ import annotations

import numpy as np

from coder.model.answers import Answers
from coder.model.classify import CodeClassifier
from coder.model.features import long_answers, normalise_text, strip_question
from coder.model.novelty import NoveltyModel
from coder.model.sentences import split_sentences, with_sentences


def test_shorthand_and_rag_statuses_read_as_the_training_answers_words():
    t = normalise_text("jus the CCG atm. hsg & providers not engagd yet | RAG: AMBER")
    assert "at the moment" in t and "housing and providers" in t and "in progress" in t
    assert "completed" in normalise_text("GREEN - complete")
    assert "within" in normalise_text("within the Board")  # real words ending in -in are left alone


def test_a_restated_question_is_dropped_but_a_status_in_its_words_is_kept():
    q = "Are you establishing local arrangements for joint delivery of this programme?"
    assert strip_question("Q1.1 - Are you establishing local arrangements for joint delivery? Yes, a new "
                          "board.", q) == "Yes, a new board."
    kept = "Local arrangements for joint delivery are established."
    assert strip_question(kept, q) == kept
    assert strip_question(q, q) == q  # nothing else to score


def test_sentences_follow_lines_bullets_and_table_cells():
    [plan, bullets] = split_sentences(["Task | Owner | Due | AMBER - drafted. Not yet sent.",
                                       "- one thing\n- another thing"])
    assert plan == ["Task", "Owner", "Due", "AMBER - drafted.", "Not yet sent."]
    assert bullets == ["one thing", "another thing"]


def test_long_training_answers_keep_their_label_and_take_background_from_other_questions():
    texts = ["Yes, agreed in May.", "No plan yet.", "The board met twice last year to review the budget lines."]
    out, y = long_answers(texts, np.array([1, 1, 2]), np.array(["yes", "no", "other"], dtype=object), 2)
    assert len(out) == 4  # the third answer has no other question to borrow from
    assert all(t.count("board met twice") == 1 for t in out[:4])
    assert list(y[:4]) == ["yes", "yes", "no", "no"]


def test_novelty_flags_answers_far_from_training_or_much_longer():
    rng = np.random.default_rng(0)
    centre = rng.normal(size=16)
    train = centre + 0.1 * rng.normal(size=(200, 16))
    m = NoveltyModel().fit(train, np.full(200, 40))
    near = train[:5] + 0.01 * rng.normal(size=(5, 16))  # new answers much like training ones
    far = -centre + 0.1 * rng.normal(size=(5, 16))
    assert not m.is_novel(near, np.full(5, 40)).any()
    assert m.is_novel(far, np.full(5, 40)).all()
    assert m.is_novel(near, np.full(5, 400)).all()


def test_the_status_sentence_of_a_long_answer_decides():
    spec = {"1": {"codes": ["0", "1"], "stances": ["no", "yes"], "multi": False, "text": "Is there a plan?",
                  "labels": ["No", "Yes"]}}
    yes = ["Yes, the plan is agreed.", "Yes, agreed and in place.", "Yes - signed off by the board."] * 5
    no = ["No, there is no plan.", "No plan is in place.", "No - not started."] * 5
    rng = np.random.default_rng(1)
    X = Answers(yes + no, np.ones(30, int), rng.normal(size=(30, 8)))
    y = ["1"] * 15 + ["0"] * 15
    background = ("The area has a long history of joint working between the council and the health service. "
                  "Budgets were reviewed in several meetings over the last two years by many people. ")
    test = Answers([background * 2 + "No plan is in place."], np.ones(1, int), rng.normal(size=(1, 8)))
    # the pooling option alone, without the word head (on by default, it reads the status words itself)
    whole = CodeClassifier(spec=spec, char_max_features=0, word_head_weight=0).fit(X, y)
    pooled = CodeClassifier(spec=spec, char_max_features=0, sentence_weight=0.8, word_head_weight=0).fit(X, y)
    p_whole = whole.predict_proba(whole.prepare(test))[0]["0"]
    p_pooled = pooled.predict_proba(pooled.prepare(Answers(test.texts, test.qids, test.emb)))[0]["0"]
    assert p_pooled > p_whole and p_pooled > 0.5
    default = CodeClassifier(spec=spec, char_max_features=0).fit(X, y)
    assert default.predict_proba(default.prepare(Answers(test.texts, test.qids, test.emb)))[0]["0"] > 0.5
    assert with_sentences(Answers(["Short."], np.ones(1, int), np.zeros((1, 8)))).sentences == [[]]
