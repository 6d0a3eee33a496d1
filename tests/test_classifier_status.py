"""Where an answer's form shows its status: plan rows' RAG cells and the clause after "but / although".

The RAG reading of plan rows is on by default (`rag_weight` 0.5); the contrast clause and the
within-stance head for short answers are measured ideas kept off (README, "Answers in other styles").
"""

from __future__ import annotations

import numpy as np
import pytest

from coder.model.answers import Answers
from coder.model.classify import CodeClassifier
from coder.model.status import contrast_clause, plan_stance, plan_status

CLASSES = ["no", "other", "unclear", "underway", "yes"]


def test_a_plan_rows_status_cell_is_read_not_its_task_cell():
    row = "Complete all reviews | CLDT | 31/05/13 | AMBER - 5 of 12 done, rest Jul-Sep"
    assert plan_status(row).startswith(" in progress")  # the last status cell, not "Complete all reviews"
    q = plan_stance(row, CLASSES)
    assert CLASSES[int(q.argmax())] == "underway"
    done = plan_stance("Task | Owner | Due | Status\nWrite plan | PM | May-13 | COMPLETE - agreed 28/05", CLASSES)
    assert done[CLASSES.index("yes")] > 0.4 and done[CLASSES.index("other")] > 0.4
    assert plan_stance("The plan was agreed in May and is being delivered.", CLASSES) is None


def test_the_clause_after_a_contrast_is_the_one_meant():
    hedged = "The Board has it in its terms of reference, although in practice it has not met this year."
    assert contrast_clause(hedged) == "in practice it has not met this year."
    conceded = "Although some find it confusing, the team's role is set out in an agreed policy."
    assert contrast_clause(conceded) == "the team's role is set out in an agreed policy."
    assert contrast_clause("Yes, the Board receives a report every quarter.") is None
    # a long answer's status is read by its tail instead
    assert contrast_clause("Some background here. " * 40 + "But nothing has happened.") is None


def _plan_data() -> tuple[dict, Answers, list[str]]:
    spec = {"1": {"codes": ["0", "1", "3"], "stances": ["no", "yes", "underway"], "multi": False,
                  "text": "Is there a plan?", "labels": ["No", "Yes", "In progress"]}}
    texts = (["No, there is no plan.", "No plan is in place yet."] * 5
             + ["Yes, the plan is agreed.", "Yes, the plan has been signed off."] * 5
             + ["The plan is being drafted.", "Work on the plan is in progress."] * 5)
    rng = np.random.default_rng(0)
    return spec, Answers(texts, np.ones(30, int), rng.normal(size=(30, 8))), ["0"] * 10 + ["1"] * 10 + ["3"] * 10


def test_the_rag_status_of_a_plan_row_moves_the_answer_towards_its_stance():
    spec, X, y = _plan_data()
    row = Answers(["Write the delivery plan | Programme Manager | Sep-13 | AMBER - first draft with partners"],
                  np.ones(1, int), np.zeros((1, 8)))
    off = CodeClassifier(spec=spec, char_max_features=0, novelty=False, rag_weight=0.0).fit(X, y)
    on = CodeClassifier(spec=spec, char_max_features=0, novelty=False).fit(X, y)  # rag_weight 0.5, the default
    assert on.predict_proba(row)[0]["3"] > off.predict_proba(row)[0]["3"]
    assert on.predict_proba(row)[0]["3"] > 0.5


def test_switched_on_the_head_only_shares_a_short_answers_stance_among_its_codes():
    spec, X, y = _plan_data()
    spec["1"] |= {"codes": ["0", "1", "3", "4"], "stances": ["no", "yes", "underway", "underway"]}
    short = Answers(["Not yet."], np.ones(1, int), X.emb[20:21])  # embedded like an underway answer
    on = CodeClassifier(spec=spec, char_max_features=0, novelty=False, short_within=1.0).fit(X, y)
    classes, P = on._stance_proba(on._tfidf(short.texts))
    p = on.predict_proba(short)[0]
    stance = dict(zip(classes, on._short_stance(short.texts, P, classes)[0], strict=True))
    assert abs(p["0"] - stance["no"]) < 1e-3  # the stance model's "no" is kept whatever the head says
    assert abs(p["3"] + p["4"] - stance["underway"]) < 1e-3


def test_trained_on_the_bundled_answers_a_pasted_plan_row_takes_its_rag_status(codebook, returns_path):
    from coder.model import pipeline
    from coder.model.classify import codebook_params, codebook_spec
    from coder.model.embed import Embedder
    from coder.returns import read_returns

    df = read_returns(returns_path, codebook)
    rows = pipeline.training_rows(df[df["qid"].isin([46, 59, 10])], codebook.blank_code)
    emb = Embedder()

    def fitted(**params):
        clf = CodeClassifier(spec=codebook_spec(codebook), **codebook_params(codebook, params))
        X = clf.prepare(Answers(rows["text"].tolist(), rows["qid"].to_numpy(), emb.encode(rows["text"].tolist())),
                        emb)
        return clf.fit(X, rows["codes"].to_numpy())

    default, off = fitted(), fitted(rag_weight=0.0)
    row = "Market capacity assessment | Strategic Commissioning | Dec-13 | AMBER - provider survey issued, 14 of 30 in"
    X = Answers([row], np.array([59]), emb.encode([row]))
    p, q = default.predict_proba(X)[0], off.predict_proba(X)[0]
    assert p["3"] > q["3"] and max(p, key=p.get) == "3"  # 11.1 "In progress"
    # bundled answers are never plan rows: scored exactly as without the rule
    B = Answers(rows["text"].tolist()[:200], rows["qid"].to_numpy()[:200], emb.encode(rows["text"].tolist()[:200]))
    assert all(a == pytest.approx(b) for a, b in zip(default.predict_proba(B), off.predict_proba(B), strict=True))
