"""Calibrated confidence: map the model's raw confidence to the chance its suggestion is exactly right.

Fitted on held-out (out-of-fold) predictions only, separately for single- and multi-code questions,
because a product of per-code probabilities is on another scale from a softmax maximum.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.isotonic import IsotonicRegression

MIN_POINTS = 20


class ConfidenceCalibrator(BaseEstimator):
    """Isotonic regression of correctness on raw confidence, one per kind of question."""

    def __init__(self, min_points: int = MIN_POINTS) -> None:
        self.min_points = min_points

    def fit(self, raw: np.ndarray, correct: np.ndarray, multi: np.ndarray) -> ConfidenceCalibrator:
        raw, correct, multi = np.asarray(raw, float), np.asarray(correct, float), np.asarray(multi, bool)
        self.maps_: dict[str, IsotonicRegression | None] = {}
        for kind, mask in (("single", ~multi), ("multi", multi)):
            if mask.sum() >= self.min_points and len(set(correct[mask])) > 1:
                self.maps_[kind] = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
                    raw[mask], correct[mask])
            else:
                self.maps_[kind] = None
        return self

    def predict(self, raw: np.ndarray, multi: np.ndarray) -> np.ndarray:
        if not hasattr(self, "maps_"):
            raise NotFittedError("ConfidenceCalibrator is not fitted")
        raw, multi = np.asarray(raw, float), np.asarray(multi, bool)
        out = raw.copy()
        for kind, mask in (("single", ~multi), ("multi", multi)):
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
