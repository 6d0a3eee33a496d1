"""Novelty: is an answer unlike anything the model was trained on?

Calibration is learned from held-out training answers, so it is only honest for answers like them. An
answer far from every training answer (a pasted page, a style never seen) gets a confidence the model has
no evidence for. `NoveltyModel` measures how close each answer's embedding comes to the nearest training
answer, and how much longer it is than the training answers; answers beyond what training answers
themselves show (further from every training answer than any training answer is from its nearest
neighbour, `quantile` 0, or over `length_factor` times the longest training answer) are *novel*:
`coder suggest` sends them to review and reports their share, and `coder drift --model-dir` reports it
per round. (A 1% quantile flagged 0.35% of the bundled 2014 round and cost the round split 0.4 points
of auto-coded share; 0 flags none of it, and 12% of the style-shift set when trained on the returns alone.
The codebook's training examples count as training answers: with them, long answers are in range and none
of the style-shift set is novel, while a pasted document of thousands of words still is.)
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

CHUNK = 2048


def _max_similarity(A: np.ndarray, B: np.ndarray, exclude_self: bool = False) -> np.ndarray:
    out = np.empty(len(A), dtype=np.float32)
    for s in range(0, len(A), CHUNK):
        sim = A[s:s + CHUNK] @ B.T
        if exclude_self:
            idx = np.arange(s, min(s + CHUNK, len(A)))
            sim[idx - s, idx] = -1.0
        out[s:s + CHUNK] = sim.max(axis=1)
    return out


class NoveltyModel(BaseEstimator):
    """Nearest-training-answer similarity and length, with the limits training answers stay within."""

    def __init__(self, quantile: float = 0.0, length_factor: float = 1.5) -> None:
        self.quantile = quantile
        self.length_factor = length_factor

    def fit(self, emb: np.ndarray, words: np.ndarray) -> NoveltyModel:
        E = np.asarray(emb, dtype=np.float32)
        E = E / np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-9)
        # the same text under several questions is one point: keep distinct vectors only
        self.emb_ = np.unique(E.round(5), axis=0).astype(np.float16)
        loo = _max_similarity(self.emb_.astype(np.float32), self.emb_.astype(np.float32), exclude_self=True)
        self.min_similarity_ = float(np.quantile(loo, self.quantile)) if len(loo) > 1 else -1.0
        self.max_words_ = float(np.max(words)) if len(words) else 0.0
        return self

    def similarity(self, emb: np.ndarray) -> np.ndarray:
        """Cosine similarity of each answer to its nearest training answer."""
        if not hasattr(self, "emb_"):
            raise NotFittedError("NoveltyModel is not fitted")
        E = np.asarray(emb, dtype=np.float32)
        E = E / np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-9)
        return _max_similarity(E, self.emb_.astype(np.float32))

    def is_novel(self, emb: np.ndarray, words: np.ndarray) -> np.ndarray:
        """True where an answer is further from the training answers than they are from each other, or
        much longer than any of them."""
        far = self.similarity(emb) < self.min_similarity_
        long = np.asarray(words, float) > self.length_factor * self.max_words_
        return far | long
