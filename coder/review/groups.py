"""One review per written answer: identical answers to the same question in a round are one task.

Template text is common in returns: an answer copied by twelve areas would otherwise be reviewed twelve
times, or be confidently wrong twelve times where no review reaches it. Answers are the same when they
match after normalising case, whitespace and punctuation (`normalise_answer`). One decision on the group's
task applies to every copy; the group's priority is the sum of its copies' priorities.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import pandas as pd

_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_SPACE = re.compile(r"\s+")
GROUP = "_group"


def normalise_answer(text: object) -> str:
    """The answer as compared for grouping: lower case, punctuation dropped, whitespace collapsed."""
    s = unicodedata.normalize("NFKC", "" if text is None else str(text)).lower()
    s = _PUNCT.sub(" ", s.replace("_", " "))
    return _SPACE.sub(" ", s).strip()


def answer_group(round_: object, qid: object, text: object) -> str:
    """The group an answer belongs to: round, question and a hash of the normalised text."""
    digest = hashlib.sha1(normalise_answer(text).encode()).hexdigest()[:12]
    return f"{round_}|Q{int(qid)}|{digest}"


def with_groups(rows: pd.DataFrame) -> pd.DataFrame:
    """`rows` with a `_group` column (see `answer_group`)."""
    groups = [answer_group(r, q, t) for r, q, t in zip(rows["round"], rows["qid"], rows["text"], strict=True)]
    return rows.assign(**{GROUP: groups})


def group_rows(review: pd.DataFrame) -> list[pd.DataFrame]:
    """The review rows as groups of identical answers, in queue order.

    With a `priority` column (coder review order) groups are ranked by the sum of their copies' priorities
    (a wrong code on twelve copies moves the report twelve times); otherwise least-confident first, the
    group with more copies first on a tie. Within a group the copies keep their order (the first one's
    suggestion is shown to the reviewer).
    """
    if review.empty:
        return []
    g = with_groups(review)
    conf = pd.to_numeric(g["confidence"], errors="coerce").fillna(0.0)
    stats = pd.DataFrame({"group": g[GROUP], "conf": conf, "n": 1})
    if "priority" in g.columns:
        stats["p"] = pd.to_numeric(g["priority"], errors="coerce").fillna(0.0)
        agg = stats.groupby("group", sort=False).agg(p=("p", "sum"), conf=("conf", "min"), n=("n", "sum"))
        agg = agg.sort_values(["p", "conf", "n"], ascending=[False, True, False], kind="stable")
    else:
        agg = stats.groupby("group", sort=False).agg(conf=("conf", "min"), n=("n", "sum"))
        agg = agg.sort_values(["conf", "n"], ascending=[True, False], kind="stable")
    parts = {k: v.drop(columns=GROUP) for k, v in g.groupby(GROUP, sort=False)}
    return [parts[k] for k in agg.index]


def count_tasks(rows: pd.DataFrame) -> int:
    """How many review tasks `rows` make once identical answers are grouped."""
    if rows.empty:
        return 0
    return int(with_groups(rows)[GROUP].nunique())
