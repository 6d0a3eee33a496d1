"""Routing: per question, the confidence above which an answer is auto-coded.

Thresholds come from held-out predictions so that auto-coded answers reach a target precision. Questions
with few held-out answers borrow strength from the pooled estimate (a precision shrunk towards the pooled
precision at the same threshold), so one lucky streak does not open the gate.
"""

from __future__ import annotations

import numpy as np

NEVER = 1.01  # a threshold no confidence reaches: everything goes to review


def _precision_curve(conf: np.ndarray, correct: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each distinct confidence v (descending): precision and count of answers with conf >= v."""
    order = np.argsort(-conf, kind="stable")
    c, k = conf[order], correct[order].astype(float)
    cum_ok, cum_n = np.cumsum(k), np.arange(1, len(k) + 1)
    last = np.r_[c[1:] != c[:-1], True]  # last index of each run of ties
    return c[last], cum_ok[last] / cum_n[last], cum_n[last]


def pooled_threshold(conf: np.ndarray, correct: np.ndarray, target: float) -> float:
    """Lowest threshold whose auto-coded set, and every stricter one, meets the target precision."""
    if len(conf) == 0:
        return NEVER
    values, prec, _ = _precision_curve(np.asarray(conf, float), np.asarray(correct, bool))
    return _open_gate(values, prec >= target)


def _open_gate(values: np.ndarray, ok: np.ndarray) -> float:
    """The lowest threshold reached before the first failure, strictest first: the gate only opens as far
    as precision holds all the way down."""
    if not ok[0]:
        return NEVER
    stop = np.argmin(ok) if not ok.all() else len(ok)
    return float(values[stop - 1])


def choose_thresholds(qids: np.ndarray, conf: np.ndarray, correct: np.ndarray, target: float,
                      prior_strength: float = 20.0) -> dict[str, float]:
    """Per-question thresholds (keys are qids as strings) plus `"pooled"` for questions not seen."""
    qids, conf, correct = np.asarray(qids), np.asarray(conf, float), np.asarray(correct, bool)
    pooled = pooled_threshold(conf, correct, target)
    out = {"pooled": pooled}
    all_values, all_prec, _ = _precision_curve(conf, correct) if len(conf) else (np.array([]),) * 3
    for q in sorted(set(qids.tolist())):
        m = qids == q
        values, prec, n = _precision_curve(conf[m], correct[m])
        # pooled precision at each of this question's candidate thresholds
        idx = np.searchsorted(-all_values, -values, side="right") - 1
        pooled_prec = all_prec[np.clip(idx, 0, len(all_prec) - 1)]
        shrunk = (prec * n + prior_strength * pooled_prec) / (n + prior_strength)
        out[str(q)] = _open_gate(values, shrunk >= target)
    return out


def route(qids: np.ndarray, conf: np.ndarray, thresholds: dict[str, float]) -> np.ndarray:
    """`auto` where confidence reaches the question's threshold, else `review`."""
    th = np.array([thresholds.get(str(q), thresholds.get("pooled", NEVER)) for q in qids], dtype=float)
    return np.where(np.asarray(conf, float) >= th, "auto", "review")
