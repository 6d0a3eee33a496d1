"""Accepted-codes tables and hand-coded returns read as one table: what each new round learns from.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from coder.codebook import Codebook
from coder.errors import InputError
from coder.returns import read_returns, read_table

HUMAN_SOURCES = ("human", "")  # '' = a hand-coded returns file (no `source` column)
EXTRA_COLUMNS = ("source", "suggested", "confidence", "model_version", "agreed")


def read_accepted(paths: str | Path | Sequence[str | Path], codebook: Codebook,
                  encoding: str = "utf-8") -> pd.DataFrame:
    """Accepted-codes tables and/or hand-coded returns files, as one long table with review columns.

    A file without a `source` column is a hand-coded returns file: its coded rows count as human codes.
    When files overlap on (round, locality, qid), a human code beats a model code, and a later file wins.
    """
    paths = [paths] if isinstance(paths, str | Path) else list(paths)
    if not paths:
        raise InputError("no accepted-codes or returns file given (--accepted)")
    frames = []
    for i, p in enumerate(paths):
        df = read_returns(p, codebook, encoding=encoding)
        raw = read_table(p, encoding)
        for c in EXTRA_COLUMNS:
            df[c] = raw[c].astype(str).str.strip().to_numpy() if c in raw.columns and len(raw) == len(df) else ""
        bad = sorted(set(df["source"]) - {"human", "auto", "rule", "pending", ""})
        if bad:
            raise InputError(f"unknown source {bad[0]!r} (expected human, auto, rule or pending)", file=str(p),
                             column="source")
        _check_review_columns(df, codebook, str(p))
        df["_file"] = i
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    df["_rank"] = df["source"].isin(HUMAN_SOURCES) & (df["codes"] != "")
    df = df.sort_values(["_rank", "_file"], kind="stable")
    df = df.drop_duplicates(["round", "locality", "qid"], keep="last")
    return df.drop(columns=["_rank", "_file"]).sort_values(["round", "locality", "qid"]).reset_index(drop=True)


def _check_review_columns(df: pd.DataFrame, codebook: Codebook, file: str) -> None:
    """A model's confidence is a number in 0..1 and its suggestion a code of the question, or blank."""
    for i, (q, conf, sug) in enumerate(zip(df["qid"], df["confidence"], df["suggested"], strict=True)):
        if conf:
            try:
                ok = 0 <= float(conf) <= 1
            except ValueError:
                ok = False
            if not ok:
                raise InputError(f"confidence {conf!r} is not a number from 0 to 1", file=file, row=i + 2,
                                 column="confidence")
        if sug:
            try:
                codebook.parse_codes(int(q), sug)
            except ValueError as e:
                raise InputError(f"suggested: {e}", file=file, row=i + 2, column="suggested") from None


def retraining_data(acc: pd.DataFrame, include_auto: bool = False) -> pd.DataFrame:
    """The answers a new model may learn from: human codes only, unless `include_auto`.

    Auto-coded answers are left out by default: learning from its own mistakes would entrench them.
    """
    sources = set(HUMAN_SOURCES) | ({"auto"} if include_auto else set())
    out = acc[acc["source"].isin(sources) & (acc["codes"] != "")]
    if out.empty:
        raise InputError("no human-coded answers to retrain on (source human, or a hand-coded returns file)")
    return out.reset_index(drop=True)
