"""The stance of short answers ("Not sure.", "Nope.", "Done.", "TBC"), read by a model of their own.

The shared stance model (`coder.model.classify`) learns from the training answers, which are mostly a
sentence or more; a two-word answer outside their vocabulary leaves its TF-IDF vector nearly empty and
the model falls back on its prior, confidently ("Not sure." scored *no*, "Nope." *unclear*). Short answers
are few in the bundled returns (about 100 of 4,000 are six words or fewer), too few to teach the words
people use for "don't know" or "not yet".

`ShortStanceModel` is trained on the training answers of at most `max_words` words plus the codebook's
`stance_examples` (generic short answers per stance, written as data in the codebook YAML), with its own
word and character n-grams, and is only applied to answers of at most `max_words` words: longer answers
are scored exactly as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from coder.model.sentences import word_count


def is_short(texts: Sequence[str], max_words: int) -> np.ndarray:
    """True for answers of at most `max_words` words."""
    return np.array([word_count(t) <= max_words for t in texts], dtype=bool)


class ShortStanceModel(BaseEstimator):
    """P(stance | short answer) from short training answers and generic stance examples.

    Parameters
    ----------
    max_words : int
        Answers of at most this many words are short.
    C : float
        Inverse regularisation of the logistic regression.
    example_weight : float
        Weight of each stance example relative to one training answer.
    """

    def __init__(self, max_words: int = 6, C: float = 4.0, example_weight: float = 1.0) -> None:
        self.max_words = max_words
        self.C = C
        self.example_weight = example_weight

    def fit(self, texts: Sequence[str], stances: Sequence[str],
            examples: Mapping[str, Sequence[str]] | None = None) -> ShortStanceModel:
        """Fit on (answer, stance) pairs (long ones are skipped) and `examples` (stance -> short answers)."""
        keep = [(t, s) for t, s in zip(texts, stances, strict=True) if word_count(t) <= self.max_words]
        extra = [(t, s) for s, ts in (examples or {}).items() for t in ts]
        rows = keep + extra
        if len({s for _, s in rows}) < 2:
            self.model_ = None
            return self
        X_text = [t for t, _ in rows]
        # single letters count ("Y", "N"): the default token pattern would drop them
        self.word_ = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")
        self.char_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
        for vec in (self.word_, self.char_):
            vec.fit(X_text)
            vec.vocabulary_ = {term: int(i) for term, i in vec.vocabulary_.items()}  # plain ints for skops
        w = np.r_[np.ones(len(keep)), np.full(len(extra), self.example_weight)]
        # newton-cg: the optimum lbfgs approaches (probabilities within 0.005), about 4x faster here
        self.model_ = LogisticRegression(C=self.C, max_iter=2000, solver="newton-cg").fit(
            self._features(X_text), np.array([s for _, s in rows], dtype=object), sample_weight=w)
        return self

    def _features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return sparse.hstack([self.word_.transform(texts), self.char_.transform(texts)]).tocsr()

    def predict_proba(self, texts: Sequence[str], classes: Sequence[str]) -> np.ndarray | None:
        """Probabilities over `classes` (columns in that order; a stance the model never saw gets a
        small floor), or None when there was nothing to learn from."""
        if getattr(self, "model_", None) is None or not len(texts):
            return None
        P = self.model_.predict_proba(self._features(texts))
        out = np.full((len(texts), len(classes)), 1e-4)
        for j, c in enumerate(self.model_.classes_):
            if c in classes:
                out[:, list(classes).index(c)] = P[:, j]
        return out / out.sum(axis=1, keepdims=True)
