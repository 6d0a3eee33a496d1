"""The experts `coder.model.classify` multiplies: per-question heads over embeddings and over words, and
log-space mixes of stance distributions (the short-answer, tail and plan-status stances mixed into the
shared one)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

EPS = 1e-4  # floor on every probability, so a product or a log never meets zero


def fit_head(emb: np.ndarray, labels: np.ndarray, C: float, weight: np.ndarray | None = None) -> LogisticRegression:
    """A question's head: its codes from the answers' embeddings."""
    return LogisticRegression(C=C, max_iter=2000, tol=1e-3).fit(emb, np.asarray(labels).astype(str),
                                                                sample_weight=weight)


def fit_word_head(T: sparse.csr_matrix, labels: np.ndarray, C: float) -> tuple[np.ndarray, LogisticRegression]:
    """A question's head over its answers' words (TF-IDF rows): the columns its answers use, and a model over
    those columns alone. Words no answer of the question uses would get zero weight anyway; leaving them out
    keeps a saved model smaller (each head stores a weight per column and code)."""
    cols = np.unique(T.indices).astype(np.int32)
    return cols, fit_head(T[:, cols], labels, C)


def word_head_matrix(head: tuple[np.ndarray, LogisticRegression], T: sparse.csr_matrix,
                     codes: list[str]) -> np.ndarray:
    """A word head's probabilities over the question's `codes` (rows are the answers' TF-IDF rows)."""
    cols, model = head
    return head_matrix(model, T[:, cols], codes)


def head_matrix(head, emb: np.ndarray, codes: list[str]) -> np.ndarray:
    """A head's probabilities over the question's `codes` (rows are answers): a fitted logistic
    regression, a single code seen in training, or None (a question never seen: uniform)."""
    H = np.full((emb.shape[0], len(codes)), EPS)
    if isinstance(head, LogisticRegression):
        ph = head.predict_proba(emb)
        for j, c in enumerate(head.classes_):
            H[:, codes.index(c)] = ph[:, j]
        return np.maximum(H, EPS)
    if isinstance(head, str):
        H[:, codes.index(head)] = 1.0
        return H
    H[:] = 1.0
    return H


def mix_rows(P: np.ndarray, rows: Sequence[int], Q: np.ndarray, a: float) -> np.ndarray:
    """`P` with its `rows` mixed with `Q` in log space (weight `a` on `Q`), renormalised."""
    mix = (1 - a) * np.log(np.maximum(P[rows], EPS)) + a * np.log(np.maximum(Q, EPS))
    mix = np.exp(mix - mix.max(axis=1, keepdims=True))
    P = P.copy()
    P[rows] = mix / mix.sum(axis=1, keepdims=True)
    return P
