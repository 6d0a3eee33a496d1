"""Review order: score review rows by how far a wrong code could move a regional Appendix 3b line, so the
answers that matter for the published figures are read first.
"""

from __future__ import annotations

import pandas as pd

from coder.errors import InputError
from coder.rounds.bound import BoundResult, bound_review


def report_impact(suggestions: pd.DataFrame, defs) -> pd.Series:
    """Per row: expected points a wrong code would move the regional Appendix 3b figures of its question.

    priority = P(suggestion wrong) x sum over the question's printed figures (each line's main percentage
    and its secondary one) of 100 / (localities of the region answering that question in that round).
    A question no report line uses scores 0; blanks coded NR by rule are certain and score 0 too.
    """
    figures: dict[int, int] = {}
    for ln in defs.lines:
        figures[ln.question] = figures.get(ln.question, 0) + 1 + int(ln.also is not None) + len(ln.split)
    s = suggestions
    size = s.groupby(["round", "region", "qid"])["locality"].transform("nunique").clip(lower=1)
    weight = s["qid"].astype(int).map(figures).fillna(0) * 100.0 / size
    wrong = 1.0 - pd.to_numeric(s["confidence"], errors="coerce").fillna(0.0).clip(0, 1)
    return (wrong * weight).round(4).rename("priority")


BOUND_RANK = 1000.0  # priority of the bounded review set: above any report_impact score (at most ~40)


def order_for_review(suggestions: pd.DataFrame, defs=None, order: str = "report-impact", target: float = 2.0,
                     budget: int | None = None) -> pd.DataFrame:
    """The suggestions ordered for review (see `plan_review`), without the per-line bounds."""
    return plan_review(suggestions, defs, order, target, budget)[0]


def plan_review(suggestions: pd.DataFrame, defs=None, order: str = "report-impact", target: float = 2.0,
                budget: int | None = None) -> tuple[pd.DataFrame, BoundResult | None]:
    """The suggestions with a `priority` column, sorted so the most useful answers to review come first, and
    (report-impact) the per-line bounds.

    `order` "report-impact": the written answers `coder.rounds.bound.bound_review` chooses to keep every
    regional and national Appendix 3b line within `target` points (a `budget` of tasks, when given, is spent
    in full: review goes on past the target on the line with the largest bound) come first, in
    the order chosen (priority BOUND_RANK + rank), and are routed to `review` even where the model was
    confident, so `coder review push` queues them; the rest follow by `report_impact`. "confidence" ranks
    the least confident first, as `coder review push` does. Higher priority = review sooner.
    """
    out = suggestions.copy()
    res = None
    conf = pd.to_numeric(out["confidence"], errors="coerce").fillna(0.0)
    if order == "report-impact":
        if defs is None:
            raise InputError("report-impact order needs report definitions")
        out["priority"] = report_impact(out, defs)
        res = bound_review(out, defs, target=target, budget=budget, spend_budget=budget is not None)
        rank = {g: len(res.order) - i for i, g in enumerate(res.order)}
        score = res.groups.map(rank).to_numpy()
        picked = ~pd.isna(score)
        out.loc[picked, "priority"] = BOUND_RANK + score[picked].astype(float)
        out.loc[picked, "route"] = "review"
        key = ["priority", "_conf"]
        asc = [False, True]
    elif order == "confidence":
        out["priority"] = (1.0 - conf).round(4)
        key, asc = ["priority"], [False]
    else:
        raise InputError(f"unknown review order {order!r}; use report-impact or confidence")
    out["_conf"] = conf
    out = out.sort_values(key + ["round", "locality", "qid"], ascending=asc + [True] * 3, kind="stable")
    return out.drop(columns="_conf").reset_index(drop=True), res
