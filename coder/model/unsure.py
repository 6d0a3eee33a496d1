"""Answers that say the writer does not know ("not sure", "TBC", "not known", "could not say", a question
left open with "?"), and whether the model may auto-code them.

Such answers are coded inconsistently by people (in the bundled returns the 49 of them are coded *Not
clear*, *No* and *In process* about equally), so the model's confidence about them is worth less than
the same confidence elsewhere: held out, the auto-coded ones are right 0.90 of the time against 0.97 for
the rest. The calibration cannot see this (it maps one raw confidence for all answers), so training
measures it: when the held-out auto-coded answers that say they are unsure fall short of the target
precision, `coder suggest` sends every such answer to review (`unsure` column), whatever its confidence.
The decision at the training target and its figures are in the model's manifest (`unsure`); the
held-out flags are kept with the model, so another target (`--target-precision`) decides again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

UNSURE = re.compile(
    r"\b(?:not sure|unsure|don'?t know|do not know|not known|tbc|to be confirmed|need to check|will check|"
    r"not certain|could not say|cannot say|can'?t say)\b|\?", re.IGNORECASE)


def says_unsure(texts: Sequence[str]) -> np.ndarray:
    """True for answers that say the writer does not know (read them without a restated question: a
    quoted question's own "?" is not doubt)."""
    return np.array([bool(UNSURE.search(t or "")) for t in texts], dtype=bool)


def unsure_check(unsure: np.ndarray, auto: np.ndarray, correct: np.ndarray, target: float) -> dict:
    """From held-out answers: how many say they are unsure, how many of those were auto-coded and how
    often rightly, and whether such answers must go to review (their auto-coded precision is below
    `target`)."""
    unsure, auto, correct = (np.asarray(a, bool) for a in (unsure, auto, correct))
    hit = unsure & auto
    precision = float(correct[hit].mean()) if hit.any() else None
    return {"held_out": int(unsure.sum()), "auto": int(hit.sum()), "auto_precision": precision,
            "to_review": bool(precision is not None and precision < target)}
