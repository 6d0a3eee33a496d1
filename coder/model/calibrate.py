"""Calibrated confidence: map the model's raw confidence to the chance its suggestion is exactly right.

Fitted on held-out (out-of-fold) predictions only, separately for single- and multi-code questions,
because a product of per-code probabilities is on another scale from a softmax maximum. Short answers (a
few words: `coder.model.short`, `coder.model.leads`) are scored by models of their own, whose confident
mistakes on held-out short answers would, pooled with the rest, lower every longer answer's confidence
(and its auto-coded share: the round split's 77% to 75%). So longer single-code answers get a map of their
own, and short answers the map of all single-code answers: their own held-out answers are too few (about
100; 176 with the codebook's training examples) and unlike the short answers real returns bring, and the
pooled map stays the more cautious for them (measured in README, "Answers in other styles", twice).
Long single-code answers (over `LONG_WORDS` words, where the classifier also reads the tail) get a map of
their own too: held out, they are right less often than answers of the same raw confidence in the
bundled returns, and fresh long answers more often, so a map pooled with the returns' short answers left
them under-confident (120-200 words: right 0.964 of the time at a mean confidence of 0.93; eighth pass).
Every map may also learn from a codebook's calibration answers (`coder.examples`): answers by other writers
that the final model scored as new answers, so not held out of a smaller fold's model (tenth pass).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.isotonic import IsotonicRegression

from coder.model.sentences import word_count

MIN_POINTS = 20
LONG_WORDS = 100


def is_long(texts: Sequence[str], words: int = LONG_WORDS) -> np.ndarray:
    """True for the answers `ConfidenceCalibrator` maps as long: over `words` words."""
    return np.array([word_count(t) > words for t in texts], dtype=bool)


class ConfidenceCalibrator(BaseEstimator):
    """Isotonic regression of correctness on raw confidence: one map for single-code answers, one for short
    ones (all single-code answers pooled), one for long ones (when held out long answers are enough), one for
    multi-code answers."""

    def __init__(self, min_points: int = MIN_POINTS) -> None:
        self.min_points = min_points

    def fit(self, raw: np.ndarray, correct: np.ndarray, multi: np.ndarray,
            short: np.ndarray | None = None, long: np.ndarray | None = None) -> ConfidenceCalibrator:
        raw, correct, multi = np.asarray(raw, float), np.asarray(correct, float), np.asarray(multi, bool)
        short = np.zeros(len(raw), bool) if short is None else np.asarray(short, bool) & ~multi
        long = np.zeros(len(raw), bool) if long is None else np.asarray(long, bool) & ~multi & ~short

        def fitted(mask: np.ndarray) -> IsotonicRegression | None:
            if mask.sum() < self.min_points or len(set(correct[mask])) < 2:
                return None
            return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw[mask], correct[mask])

        pooled = fitted(~multi)
        own_long = fitted(long) if long.any() else None
        rest = ~multi & ~short & ~long if own_long is not None else ~multi & ~short
        self.maps_: dict[str, IsotonicRegression | None] = {
            "single": (fitted(rest) or pooled) if short.any() or own_long is not None else pooled,
            "multi": fitted(multi), "short": pooled if short.any() else None, "long": own_long}
        return self

    def predict(self, raw: np.ndarray, multi: np.ndarray, short: np.ndarray | None = None,
                long: np.ndarray | None = None) -> np.ndarray:
        if not hasattr(self, "maps_"):
            raise NotFittedError("ConfidenceCalibrator is not fitted")
        raw, multi = np.asarray(raw, float), np.asarray(multi, bool)
        short = np.zeros(len(raw), bool) if short is None else np.asarray(short, bool) & ~multi
        if self.maps_.get("short") is None:  # no short answers in training (or a model saved before)
            short = np.zeros(len(raw), bool)
        long = np.zeros(len(raw), bool) if long is None else np.asarray(long, bool) & ~multi & ~short
        if self.maps_.get("long") is None:  # too few long answers held out (or a model saved before)
            long = np.zeros(len(raw), bool)
        out = raw.copy()
        for kind, mask in (("single", ~multi & ~short & ~long), ("multi", multi), ("short", short),
                           ("long", long)):
            m = self.maps_.get(kind)
            if m is not None and mask.any():
                out[mask] = m.predict(raw[mask])
        return np.clip(out, 0.0, 1.0)


def expected_calibration_error(conf: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """Top-label ECE with equal-width bins: the weighted gap between confidence and accuracy."""
    conf, correct = np.asarray(conf, float), np.asarray(correct, float)
    if len(conf) == 0:
        return float("nan")
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            ece += m.mean() * abs(conf[m].mean() - correct[m].mean())
    return float(ece)
