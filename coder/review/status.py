"""The review's progress: auto-coded, waiting, reviewed and changed per round; most-corrected questions;
Cohen's kappa where two reviewers coded the same answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from coder.codebook import Codebook
from coder.review.accept import build_accepted
from coder.review.groups import count_tasks
from coder.review.store import ReviewStore, human_decisions
from coder.suggestions import read_suggestions


@dataclass
class RoundStatus:
    round: str
    auto: int | None
    waiting: int | None
    reviewed: int
    changed: int
    waiting_tasks: int | None = None   # identical answers to a question share one task
    reviewed_tasks: int = 0


def review_status(store: str | Path, codebook: Codebook) -> dict:
    """Per round: auto-coded, waiting, reviewed, changed; most-corrected questions; kappa where two coded."""

    st = ReviewStore(store)
    suggestions_path = st.state().get("suggestions")
    note = ""
    table: pd.DataFrame | None = None
    if suggestions_path and Path(suggestions_path).exists():
        table = build_accepted(read_suggestions(suggestions_path, codebook), st, codebook)
    elif suggestions_path:
        note = (f"the suggestions file {suggestions_path} recorded by push/accept is gone; "
                "counts show reviews only")
    else:
        note = ("no suggestions file recorded yet (run `coder review push` or `coder accept`): "
                "counts show reviews only")
    humans = list(human_decisions(st, codebook).values())
    rounds: dict[str, RoundStatus] = {}
    if table is not None:
        for rnd, g in table.groupby("round", sort=True):
            h = g[g["source"] == "human"]
            rounds[str(rnd)] = RoundStatus(str(rnd), int(g["source"].isin(["auto", "rule"]).sum()),
                                           int((g["source"] == "pending").sum()), len(h),
                                           int((h["agreed"] == "no").sum()),
                                           waiting_tasks=count_tasks(g[g["source"] == "pending"]))
    else:
        for r in humans:
            rs = rounds.setdefault(str(r["round"]), RoundStatus(str(r["round"]), None, None, 0, 0))
            rs.reviewed += 1
            rs.changed += 0 if r.get("agreed") else 1
    tasks: dict[str, set] = {}
    for r in humans:
        tasks.setdefault(str(r["round"]), set()).add(
            (r.get("server"), r.get("project_id"), r.get("task_id")) if r.get("task_id") is not None
            else r.get("record_id"))
    for rnd, ids in tasks.items():
        if rnd in rounds:
            rounds[rnd].reviewed_tasks = len(ids)
    per_q: dict[int, list[int]] = {}
    for r in humans:
        n = per_q.setdefault(int(r["qid"]), [0, 0])
        n[0] += 1
        n[1] += 0 if r.get("agreed") else 1
    corrected = sorted(((q, n, c) for q, (n, c) in per_q.items() if c),
                       key=lambda x: (-x[2], -x[2] / x[1], x[0]))
    return {"rounds": [rounds[k] for k in sorted(rounds)], "most_corrected": corrected[:5],
            "kappa": agreement(st), "note": note,
            "question_ref": {q.id: q.ref for q in codebook.questions}}


def agreement(store: ReviewStore) -> list[dict]:
    """Cohen's kappa per question over tasks that two reviewers coded (the first two to code each)."""
    from sklearn.metrics import cohen_kappa_score

    by_key: dict[tuple[str, str, int], list[dict]] = {}
    for r in sorted(store.latest(), key=lambda r: str(r.get("reviewed_at", ""))):
        key = (str(r["round"]), str(r["locality"]), int(r["qid"]))
        pair = by_key.setdefault(key, [])
        if all(p["reviewer"] != r["reviewer"] for p in pair) and len(pair) < 2:
            pair.append(r)
    per_q: dict[int, tuple[list[str], list[str]]] = {}
    for (_, _, qid), pair in by_key.items():
        if len(pair) == 2:
            a, b = per_q.setdefault(qid, ([], []))
            a.append(pair[0]["codes"])
            b.append(pair[1]["codes"])
    out = []
    for qid in sorted(per_q):
        a, b = per_q[qid]
        agree = sum(x == y for x, y in zip(a, b, strict=True)) / len(a)
        kappa = float("nan")
        if len(a) >= 2:
            kappa = float(cohen_kappa_score(a, b))
        out.append({"qid": qid, "tasks": len(a), "agreement": agree,
                    "kappa": None if math.isnan(kappa) else kappa})
    return out
