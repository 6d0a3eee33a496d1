"""The classifier fitted on a few questions of the bundled returns, as `coder train` fits it (lead clauses
embedded, the codebook's stance examples): shared by the classifier tests."""

from __future__ import annotations

import pandas as pd

from coder.model import pipeline
from coder.model.answers import Answers
from coder.model.classify import CodeClassifier, codebook_params, codebook_spec
from coder.returns import read_returns


def question_rows(codebook, returns_path, qids: list[int]) -> pd.DataFrame:
    """The training rows (coded, non-blank, one per written answer) of these questions."""
    df = read_returns(returns_path, codebook)
    return pipeline.training_rows(df[df["qid"].isin(qids)], codebook.blank_code)


def fitted(rows: pd.DataFrame, codebook, embedder, **params) -> CodeClassifier:
    clf = CodeClassifier(spec=codebook_spec(codebook), **codebook_params(codebook, params))
    X = clf.prepare(Answers(rows["text"].tolist(), rows["qid"].to_numpy(), embedder.encode(rows["text"].tolist())),
                    embedder, training=True)
    return clf.fit(X, rows["codes"].to_numpy())
