"""Choose the review set that bounds every Appendix 3b line, not only the total.

A line (round, region or National, question) can be moved by every unreviewed machine code of its question
in its group: by 100 / n points each (n = localities of the group), with probability 1 - confidence (the
calibrated confidences). Per line: `expected` = sum of p x 100/n, `worst` = the points if every one were
wrong, and `bound` = expected + z (3) standard deviations (the points it is unlikely to exceed). Greedily, the
line with the largest bound gets its biggest contributor reviewed, a whole written answer at a time (one
task decides every copy, `coder.review.groups`), until every line's bound is within the target or the
budget of tasks is spent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from coder.review.groups import GROUP, with_groups

NATIONAL = "National"
Z = 3.0  # standard deviations in a line's bound: about 1 line in 700 over it by chance (297 regional lines)


@dataclass
class BoundResult:
    order: list[str] = field(default_factory=list)   # groups to review, in the order chosen
    groups: pd.Series | None = None                   # each row's group
    lines: pd.DataFrame | None = None                  # per line: expected / worst / bound, before and after
    target: float = 2.0
    within: bool = True                               # every line's bound within the target after review


def machine_rows(s: pd.DataFrame) -> pd.Series:
    """Rows whose code is the model's: not a rule (blank = NR) and not already coded by a person."""
    mask = s["model_version"].astype(str) != "rule" if "model_version" in s.columns else pd.Series(True, s.index)
    if "human_codes" in s.columns:
        given = s["human_codes"].fillna("").astype(str).str.strip()
        mask &= (given == "") | (given.str.lower() == "nan")
    return mask


def bound_review(suggestions: pd.DataFrame, defs, target: float = 2.0, budget: int | None = None,
                 z: float = Z, spend_budget: bool = False) -> BoundResult:
    """The written answers to review so that every regional and national line's bound is within `target`
    points (or the `budget` of tasks is spent); see the module docstring.

    With `spend_budget` (and a budget) review goes on after every line is within the target, still on the
    line with the largest bound, until the budget is spent: a bound is a probability, and a confidently
    wrong copy or two can still hide under it.
    """
    s = suggestions.reset_index(drop=True)
    if "text" not in s.columns:
        s = s.assign(text=s["locality"].astype(str))  # no text: every answer is its own task
    g = with_groups(s)[GROUP]
    report_qs = {ln.question for ln in defs.lines}
    qid = s["qid"].astype(int)
    size = s.groupby(["round", "region", "qid"])["locality"].transform("nunique").clip(lower=1)
    nat = s.groupby(["round", "qid"])["locality"].transform("nunique").clip(lower=1)
    p = (1.0 - pd.to_numeric(s["confidence"], errors="coerce").fillna(0.0).clip(0, 1)).to_numpy()
    live = (machine_rows(s) & qid.isin(report_qs)).to_numpy()

    keys = pd.concat([
        pd.DataFrame({"row": np.arange(len(s)), "round": s["round"].astype(str), "region": s["region"].astype(str),
                      "qid": qid, "w": 100.0 / size}),
        pd.DataFrame({"row": np.arange(len(s)), "round": s["round"].astype(str), "region": NATIONAL, "qid": qid,
                      "w": 100.0 / nat})], ignore_index=True)
    keys = keys[qid.isin(report_qs).to_numpy()[keys["row"].to_numpy()]]
    lines = keys[["round", "region", "qid"]].drop_duplicates().reset_index(drop=True)
    line_id = keys.merge(lines.reset_index(), on=["round", "region", "qid"], how="left")["index"].to_numpy()
    rows, w = keys["row"].to_numpy(), keys["w"].to_numpy()
    on = live[rows]
    e = np.where(on, p[rows] * w, 0.0)
    v = np.where(on, p[rows] * (1 - p[rows]) * w * w, 0.0)
    worst = np.where(on & (p[rows] > 0), w, 0.0)
    n_lines = len(lines)
    E, V, W = (np.bincount(line_id, weights=x, minlength=n_lines) for x in (e, v, worst))
    before = (E.copy(), W.copy(), E + z * np.sqrt(V))

    grp = g.to_numpy()[rows]
    contrib = pd.DataFrame({"line": line_id, "group": grp, "e": e, "v": v, "worst": worst})
    contrib = contrib[contrib["e"] > 0]
    per_group = {k: d[["line", "e", "v", "worst"]].groupby("line").sum() for k, d in contrib.groupby("group")}
    by_line = (contrib.groupby(["line", "group"])["e"].sum().reset_index()
               .sort_values(["line", "e"], ascending=[True, False]))
    candidates = {k: list(d["group"]) for k, d in by_line.groupby("line")}
    chosen: list[str] = []
    done: set[str] = set()
    exhausted = np.zeros(n_lines, bool)
    while budget is None or len(chosen) < budget:
        bound = np.where(exhausted, 0.0, E + z * np.sqrt(np.clip(V, 0, None)))
        worst_line = int(np.argmax(bound)) if n_lines else 0
        if not n_lines or bound[worst_line] <= (0.0 if spend_budget and budget is not None else target):
            break
        queue = candidates.get(worst_line, [])
        while queue and queue[0] in done:
            queue.pop(0)
        if not queue:
            exhausted[worst_line] = True
            continue
        pick = queue.pop(0)
        done.add(pick)
        chosen.append(pick)
        c = per_group[pick]
        idx = c.index.to_numpy()
        E[idx] -= c["e"].to_numpy()
        V[idx] -= c["v"].to_numpy()
        W[idx] -= c["worst"].to_numpy()
    after = E + z * np.sqrt(np.clip(V, 0, None))
    table = lines.assign(n=[0] * n_lines, expected_before=before[0], worst_before=before[1],
                         bound_before=before[2], expected=np.clip(E, 0, None), worst=np.clip(W, 0, None),
                         bound=after).drop(columns="n").round(3)
    return BoundResult(chosen, g, table, target, bool((after <= target + 1e-9).all()))
