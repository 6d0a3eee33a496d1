"""Figures that say what they rest on: each Appendix 3b figure counts its human-, rule- and machine-coded
answers, and lines the machine codes could move by more than 2 points are flagged in the HTML and XLSX."""

from __future__ import annotations

import numpy as np
import pandas as pd
from openpyxl import load_workbook

from coder.report.build import write_report
from coder.returns import read_returns


def test_each_figure_shows_its_basis_and_flags_shaky_lines(codebook, returns_path, tmp_path):
    df = read_returns(returns_path, codebook)
    df = df[df["round"] == "2014-05"].reset_index(drop=True)
    rng = np.random.default_rng(3)
    source = np.where(df["text"] == "", "rule", np.where(rng.random(len(df)) < 0.3, "human", "auto"))
    conf = np.where(source == "auto", 0.998, 1.0)
    # One region's Q5 answers are shaky machine codes: that line must be flagged.
    shaky = (df["region"] == "North East") & (df["qid"] == 5) & (source == "auto")
    conf[shaky.to_numpy()] = 0.6
    accepted = df.assign(source=source, suggested=df["codes"], confidence=conf)
    path = tmp_path / "accepted.csv"
    accepted.to_csv(path, index=False)

    out = tmp_path / "report"
    res = write_report(path, out, codebook)
    table = pd.read_csv(out / "appendix3b.csv")
    nat = table[(table["region"] == "National") & (table["question"] == 5)].iloc[0]
    q5 = accepted[accepted["qid"] == 5]
    assert (nat["human"], nat["rule"], nat["machine"]) == tuple(int((q5["source"] == s).sum())
                                                             for s in ("human", "rule", "auto"))
    ne = table[(table["region"] == "North East") & (table["question"] == 5)].iloc[0]
    n_shaky = int(shaky.sum())
    assert ne["machine_error"] == round(100 * 0.4 * n_shaky / ne["n"], 1)
    assert bool(ne["flag"]) and n_shaky
    assert not table[table["question"] != 5]["flag"].any(), "confident machine codes are not flagged"
    assert res.table["flag"].sum() == table["flag"].sum()

    html = (out / "index.html").read_text()
    assert f"H{nat['human']} R{nat['rule']} M{nat['machine']}" in html
    assert f"±{ne['machine_error']:.1f}" in html and "td class=\"num flag\"" in html

    ws = load_workbook(out / "appendix3b.xlsx")["North East"]
    rows = list(ws.iter_rows(values_only=True))
    header = next(r for r in rows if r and r[0] == "Q")
    assert list(header[5:10]) == ["Human", "Rule", "Machine", "Machine could move (points)", "Flag"]
    flagged = [r for r in rows if r and r[0] == 5]
    assert flagged and all(r[9] == "CHECK" for r in flagged)
