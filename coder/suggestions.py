"""The suggestions table `coder suggest` writes and every later step reads: its columns, its reader, and
the key (round, locality, qid) that names one answer everywhere.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from coder.codebook import Codebook, format_codes
from coder.errors import InputError
from coder.returns import read_table

SUGGESTION_COLUMNS = ["round", "locality", "region", "qid", "text", "suggested", "confidence", "route",
                      "model_version", "ref", "support", "source_id"]
SUGGESTION_REQUIRED = ["round", "locality", "qid", "suggested", "confidence", "route"]


OPTIONAL_SUGGESTION_COLUMNS = ["human_codes", "priority"]
# `coder suggest --wide` keeps every suggestion, long-form, on this sheet of its workbook: push and accept read
# the workbook itself, so the analyst has one file
LONG_SHEET = "All suggestions"


def read_suggestions(path: str | Path, codebook: Codebook) -> pd.DataFrame:
    """Read a suggestions CSV or workbook (`coder suggest`), checking each row; errors name the file, row and
    column."""
    df = read_table(path, sheet=LONG_SHEET)
    missing = [c for c in SUGGESTION_REQUIRED if c not in df.columns]
    if missing:
        raise InputError(f"not a suggestions file: missing column(s) {', '.join(missing)} "
                         f"(expected {', '.join(SUGGESTION_COLUMNS)})", file=str(path))
    for c in SUGGESTION_COLUMNS:
        if c not in df.columns:
            df[c] = ""
    # optional: `priority` (coder review order) decides the queue order; `human_codes` are codes the input
    # already had, which no model suggestion replaces
    df = df[SUGGESTION_COLUMNS + [c for c in OPTIONAL_SUGGESTION_COLUMNS if c in df.columns]].copy()
    if df.empty:
        raise InputError("the suggestions file has a header but no rows", file=str(path), row=2)
    human = []
    conf, qids, suggested = [], [], []
    for i, row in enumerate(df.itertuples(index=False)):
        where = {"file": str(path), "row": i + 2}
        try:
            qid = str(row.qid).strip().lstrip("Qq")
            if not re.fullmatch(r"[0-9]+(\.0)?", qid):  # int() would also take '1_0', '+5' and other scripts' digits
                raise ValueError(qid)
            q = codebook.question(int(float(qid)))
        except (KeyError, ValueError):
            raise InputError(f"question {row.qid!r} is not in codebook {codebook.name!r}", column="qid",
                             **where) from None
        qids.append(q.id)
        try:
            c = float(row.confidence)
        except ValueError:
            raise InputError(f"confidence {row.confidence!r} is not a number", column="confidence",
                             **where) from None
        if not 0 <= c <= 1:
            raise InputError(f"confidence {c} is outside 0..1", column="confidence", **where)
        conf.append(c)
        if row.route not in ("auto", "review"):
            raise InputError(f"route {row.route!r} is neither 'auto' nor 'review'", column="route", **where)
        try:
            suggested.append(format_codes(codebook.parse_codes(q.id, row.suggested)))
        except ValueError as e:
            raise InputError(str(e), column="suggested", **where) from None
        if not str(row.round).strip() or not str(row.locality).strip():
            raise InputError("round and locality must not be blank", **where)
        human.append(_human_codes(getattr(row, "human_codes", ""), q.id, str(row.text), codebook, where))
    df["qid"] = qids
    df["confidence"] = conf
    df["suggested"] = suggested
    if "human_codes" in df.columns:
        df["human_codes"] = human
    for c in ("round", "locality"):  # ' Aldmoor ' is Aldmoor: the key must not tell them apart
        df[c] = df[c].astype(str).str.strip()
    key = df[["round", "locality", "qid"]].astype(str).agg("|".join, axis=1)
    dup = key.duplicated()
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        raise InputError(f"({df['round'].iat[i]}, {df['locality'].iat[i]}, Q{df['qid'].iat[i]}) "
                         f"appears twice", file=str(path), row=i + 2)
    return df


def _human_codes(value: object, qid: int, text: str, codebook: Codebook, where: dict) -> str:
    """A person's codes from the input, checked like any code: a bad one never reaches an accepted table."""
    raw = "" if value is None else str(value).strip()
    if not raw or raw.lower() == "nan":
        return ""
    try:
        codes = format_codes(codebook.parse_codes(qid, raw))
    except ValueError as e:
        raise InputError(f"human code: {e}", column="human_codes", **where) from None
    if codes != codebook.blank_code and not text.strip():
        raise InputError(f"a blank answer hand-coded {codes!r}: a blank answer is {codebook.blank_code}",
                         column="human_codes", **where)
    return codes


def task_key(round_: str, locality: str, qid: int | str) -> str:
    return f"{round_}|{locality}|{int(qid)}"
