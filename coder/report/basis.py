"""What each Appendix 3b figure rests on: how many of its answers a person, a rule and the model coded,
and how far the model's codes could move it.

A machine-coded answer (auto-coded, or pending and counted by its suggestion) is wrong with probability
1 - its calibrated confidence, and a wrong code moves each figure of its question by at most 100 / n
points (n = localities of the group). `machine_error` is the expected number of points the machine codes
could move the figure (sum of (1 - confidence) x 100 / n; an answer without a confidence counts as
certainly wrong), and `flag` marks figures where that is more than `FLAG_POINTS`.
"""

from __future__ import annotations

import pandas as pd

FLAG_POINTS = 2.0
BASIS_COLUMNS = ["human", "rule", "machine", "machine_error", "flag"]


def answer_basis(df: pd.DataFrame, pending: str = "suggested") -> pd.Series:
    """Per answer of a prepared frame: 'human', 'rule', 'machine' or '' (counts under no line)."""
    source = df["source"].fillna("").astype(str) if "source" in df.columns else pd.Series("", df.index)
    status = df["status"]
    out = pd.Series("", index=df.index)
    out[(status == "coded") & source.isin(["human", ""])] = "human"
    out[(status == "coded") & (source == "rule")] = "rule"
    out[(status == "coded") & (source == "auto")] = "machine"
    if pending == "suggested":
        out[status == "pending"] = "machine"
    return out


def figure_basis(df: pd.DataFrame, pending: str = "suggested") -> pd.DataFrame:
    """Per (region, question), National included: answers coded by a person, a rule and the model, and the
    expected points the machine codes could move the figure (see the module docstring)."""
    from coder.report.tables import NATIONAL

    basis = answer_basis(df, pending)
    conf = pd.to_numeric(df["confidence"], errors="coerce") if "confidence" in df.columns else None
    wrong = (1.0 - conf.fillna(0.0).clip(0, 1)) if conf is not None else pd.Series(1.0, df.index)
    frame = pd.DataFrame({"region": df["region"].astype(str), "question": df["qid"].astype(int),
                          "human": basis == "human", "rule": basis == "rule", "machine": basis == "machine",
                          "p": wrong.where(basis == "machine", 0.0), "n": 1})
    parts = [frame, frame.assign(region=NATIONAL)]
    g = pd.concat(parts).groupby(["region", "question"], sort=False).sum()
    out = g[["human", "rule", "machine"]].astype(int)
    out["machine_error"] = (100.0 * g["p"] / g["n"]).round(1)
    out["flag"] = out["machine_error"] > FLAG_POINTS
    return out.reset_index()


def with_basis(table: pd.DataFrame, df: pd.DataFrame, pending: str = "suggested") -> pd.DataFrame:
    """The Appendix 3b table with the basis columns of each figure (`BASIS_COLUMNS`)."""
    out = table.merge(figure_basis(df, pending), on=["region", "question"], how="left")
    for c in ("human", "rule", "machine"):
        out[c] = out[c].fillna(0).astype(int)
    out["machine_error"] = out["machine_error"].fillna(0.0)
    out["flag"] = out["flag"].fillna(False).astype(bool)
    return out
