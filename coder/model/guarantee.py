"""A guaranteed auto-accept threshold: Learn-then-Test on held-out predictions.

The routing thresholds in `coder.model.route` aim at a target precision; this module *guarantees* it, in the
distribution-free sense of Learn-then-Test (Angelopoulos, Bates, Candès, Jordan & Lei, 2021): with
probability at least ``1 - delta`` over the held-out answers used to choose it, the precision of the
answers auto-coded at the chosen threshold is at least ``target``. The guarantee assumes that the answers
to be coded are exchangeable with the held-out ones (same kind of returns, same coders); a new round that
differs from the last one can break it, which is why `coder drift` watches the reviewers' corrections.

How: candidate thresholds from a fixed grid are tested from the strictest down. For each, the held-out
answers at or above it are a sample of the answers it would auto-code, so the number coded correctly is
binomial given how many there are, and H0 "precision < target" has an exact binomial (or Hoeffding-Bentkus)
p-value. Fixed-sequence testing rejects while p <= delta and stops at the first failure; the loosest
threshold rejected is returned. Testing in a fixed order needs no multiplicity correction.

Held-out data used once: the isotonic calibrator turns raw scores into confidences using the held-out
answers' own correctness, so testing on the answers it was fitted on would select answers by their labels.
`certification_half` therefore splits the held-out answers by written answer (`source_id`) into a half
that fits the calibrator and a half that only certifies; the thresholds tested are on the scale of a
calibrator that never saw the certifying answers. Several groups (questions with their own threshold, and
the rest sharing the pooled one) are tested with delta split evenly between them (Bonferroni), so with
probability at least 1 - delta every group's precision holds at once, and so does the precision of all
auto-coded answers together.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from coder.model.route import NEVER

METHODS = ("binomial", "hoeffding-bentkus")
DEFAULT_DELTA = 0.1
GRID = np.round(np.arange(1.0, 0.0, -0.005), 3)  # fixed before seeing any data, strictest first


def certification_half(source_ids: np.ndarray, seed: int = 0) -> np.ndarray:
    """True for the held-out answers kept for certifying (about half the written answers), False for those
    that fit the calibrator. Decided by a hash of the written answer, so every use of one text falls on the
    same side and the split is the same on every run (`seed` draws another split)."""
    out = [hashlib.sha256(f"{seed}:{s}".encode()).digest()[0] & 1 == 1 for s in np.asarray(source_ids, str)]
    return np.array(out, dtype=bool)


def pvalue(successes: int, n: int, target: float, method: str = "binomial") -> float:
    """P-value of H0: precision < `target`, having seen `successes` correct answers out of `n`.

    Parameters
    ----------
    successes, n : int
        Correct answers and answers among the held-out answers a threshold would auto-code.
    target : float
        The precision to be guaranteed, in (0, 1).
    method : {"binomial", "hoeffding-bentkus"}
        ``binomial`` is the exact binomial tail P(X >= successes), X ~ Bin(n, target): the sharpest valid
        test. ``hoeffding-bentkus`` is the bound used in the Learn-then-Test paper: the smaller of
        Hoeffding's exp(-n h(error, 1 - target)) and Bentkus' e P(Bin(n, 1 - target) <= errors).

    Returns
    -------
    float
        The p-value; 1.0 when ``n`` is 0 (nothing seen, nothing can be rejected).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {METHODS}")
    if n <= 0:
        return 1.0
    if method == "binomial":
        return float(stats.binom.sf(successes - 1, n, target))
    alpha = 1.0 - target
    errors = n - successes
    risk = errors / n
    if risk >= alpha:
        hoeffding = 1.0
    else:
        hoeffding = math.exp(-n * _kl(risk, alpha))
    bentkus = math.e * float(stats.binom.cdf(errors, n, alpha))
    return float(min(1.0, hoeffding, bentkus))


def _kl(a: float, b: float) -> float:
    """Bernoulli Kullback-Leibler divergence KL(a || b)."""
    out = 0.0
    if a > 0:
        out += a * math.log(a / b)
    if a < 1:
        out += (1 - a) * math.log((1 - a) / (1 - b))
    return out


def min_testable(target: float, delta: float, method: str = "binomial") -> int:
    """The fewest answers with which a perfect record rejects H0 (fewer can never give a guarantee)."""
    n = 1
    while pvalue(n, n, target, method) > delta:
        n += 1
        if n > 100_000:
            raise ValueError("target and delta need an impossible number of answers")
    return n


def ltt_threshold(conf: np.ndarray, correct: np.ndarray, target: float = 0.95, delta: float = DEFAULT_DELTA,
                  method: str = "binomial", grid: np.ndarray | None = None) -> tuple[float, dict]:
    """The loosest threshold whose auto-coded precision is at least `target` with probability 1 - `delta`.

    Parameters
    ----------
    conf : array of float
        Calibrated confidences of held-out (out-of-fold) predictions.
    correct : array of bool
        Whether each held-out prediction was exactly right.
    target, delta : float
        Guarantee: P(precision of auto-coded answers >= target) >= 1 - delta.
    method : {"binomial", "hoeffding-bentkus"}
        The p-value, see `pvalue`.
    grid : array of float, optional
        Candidate thresholds, tested from the first; fixed before looking at the data (default: 1.000 down
        to 0.005 in steps of 0.005).

    Returns
    -------
    threshold : float
        The chosen threshold, or ``coder.model.route.NEVER`` (1.01) when none can be guaranteed.
    info : dict
        ``n`` and ``correct`` held-out answers at the threshold, their ``precision``, the last ``p_value``
        rejected and ``tested`` (how many candidates were tested).

    Notes
    -----
    Candidates that select fewer answers than a perfect record needs to reject (`min_testable`, 45 for
    0.95 / 0.1 with the exact test) are passed over rather than ending the sequence: they could never be
    rejected, and since fewer answers lie above a stricter threshold this only delays the first test. When
    precision rises with confidence (what calibration is for) passing them over is conservative; the tests
    check the realised failure rate by simulation.
    """
    conf, correct = np.asarray(conf, float), np.asarray(correct, bool)
    if len(conf) != len(correct):
        raise ValueError("conf and correct differ in length")
    grid = GRID if grid is None else np.asarray(grid, float)
    need = min_testable(target, delta, method)
    order = np.argsort(-conf, kind="stable")
    c_sorted, ok_cum = conf[order], np.cumsum(correct[order])
    chosen, info, tested = NEVER, {"n": 0, "correct": 0, "precision": None, "p_value": 1.0}, 0
    for lam in grid:
        n = int(np.searchsorted(-c_sorted, -lam, side="right"))  # answers with conf >= lam
        if n < need:
            continue
        k = int(ok_cum[n - 1])
        p = pvalue(k, n, target, method)
        tested += 1
        if p > delta:
            break
        chosen, info = float(lam), {"n": n, "correct": k, "precision": k / n, "p_value": p}
    return chosen, info | {"tested": tested}


@dataclass
class Guarantee:
    """Thresholds with a Learn-then-Test guarantee, per question where data allow and pooled otherwise.

    `thresholds` has the same shape as `coder.model.route.choose_thresholds` (qid strings plus ``"pooled"``), so
    `coder.model.route.route` uses it as it is.
    """

    target: float
    delta: float
    method: str
    min_per_question: int
    thresholds: dict[str, float]
    per_question: list[int] = field(default_factory=list)
    details: dict[str, dict] = field(default_factory=dict)

    def to_manifest(self) -> dict:
        return {"target": self.target, "delta": self.delta, "method": "Learn-then-Test",
                "test": self.method, "sequence": "fixed, strictest threshold first",
                "held_out": "calibrator fitted on half the written answers, thresholds certified on the other",
                "multiplicity": "Bonferroni over the per-question groups and the pooled rest",
                "min_per_question": self.min_per_question, "per_question": self.per_question,
                "pooled_threshold": self.thresholds["pooled"], "thresholds": self.thresholds,
                "details": self.details}


def ltt_thresholds(qids: np.ndarray, conf: np.ndarray, correct: np.ndarray, target: float = 0.95,
                   delta: float = DEFAULT_DELTA, method: str = "binomial",
                   min_per_question: int | None = None) -> Guarantee:
    """Per-question guaranteed thresholds where a question has enough held-out answers, pooled otherwise.

    Parameters
    ----------
    qids, conf, correct : arrays
        Certifying held-out predictions: question id, calibrated confidence (from a calibrator fitted on
        other answers), exactly right or not.
    target, delta, method
        See `ltt_threshold`.
    min_per_question : int, optional
        Held-out answers a question needs for its own threshold (default: 4 x `min_testable`, so a question
        can open its gate without a perfect record). The other questions share the pooled threshold, tested
        on their answers only (all answers when every question has its own).

    Returns
    -------
    Guarantee
        Each group is tested at delta / (number of groups), so all hold together with probability 1 - delta.
    """
    qids, conf, correct = np.asarray(qids), np.asarray(conf, float), np.asarray(correct, bool)
    need = min_testable(target, delta, method)
    min_per_question = min_per_question or 4 * need
    per_q = [int(q) for q in sorted(set(qids.tolist())) if (qids == q).sum() >= min_per_question]
    groups = len(per_q) + 1
    each = delta / groups
    rest = ~np.isin(qids, per_q)
    if not rest.any():
        rest = np.ones(len(qids), bool)
    pooled, info = ltt_threshold(conf[rest], correct[rest], target, each, method)
    thresholds = {"pooled": pooled}
    details = {"pooled": info | {"threshold": pooled, "delta": each}}
    for q in per_q:
        m = qids == q
        th, qi = ltt_threshold(conf[m], correct[m], target, each, method)
        thresholds[str(q)] = th
        details[str(q)] = qi | {"threshold": th, "delta": each}
    return Guarantee(target, delta, method, int(min_per_question), thresholds, per_q, details)


def describe(manifest: dict, target: float | None = None) -> str | None:
    """The sentence `coder suggest` prints about a model's guarantee, or None if it has none.

    With `target` (a precision asked for at suggestion time) the guarantee is stated at that target: the
    model recomputes its Learn-then-Test thresholds for it.
    """
    g = manifest.get("guarantee")
    if not g:
        return None
    if target and manifest.get("threshold_method") == "ltt":
        g = g | {"target": target}
    test = "exact binomial" if g.get("test") == "binomial" else g.get("test", "")
    scope = (f"per question for {len(g['per_question'])} question(s), pooled for the rest"
             if g.get("per_question") else "pooled over questions")
    used = manifest.get("threshold_method", "ltt") == "ltt"
    tail = "" if used else " [not used for routing: threshold_method is " + str(manifest.get("threshold_method")) + "]"
    return (f"auto-coded answers: precision >= {g['target']:.2f} with probability >= {1 - g['delta']:.2f} "
            f"(Learn-then-Test, {test}, {scope}; assumes the answers resemble the held-out ones){tail}")
