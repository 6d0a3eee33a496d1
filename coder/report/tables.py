"""The report's tables as functions over a long coded DataFrame: Appendix 3b, Appendix 4 support counts,
change between rounds, and the published figures beside ours. A notebook can call each one.

Each line counts the localities whose answer carries one of its codes, over all localities of the group
(blanks included), as the 2013 report did.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from coder.codebook import Codebook
from coder.errors import InputError
from coder.report.definitions import ReportDefinitions
from coder.returns import read_returns, read_table

NATIONAL = "National"


# The order Appendix 3b prints its regional tables in; other regions follow alphabetically.
PUBLISHED_REGIONS = ("North West", "East Midlands", "West Midlands", "South East", "South West", "London",
                     "North East", "East", "Yorkshire and Humber")
PENDING_POLICIES = ("suggested", "exclude")


TABLE_COLUMNS = ["region", "theme", "question", "line", "pct", "secondary_pct", "secondary", "n", "count",
                 "secondary_count", "pending"]


def read_coded(path: str | Path, codebook: Codebook, encoding: str = "utf-8") -> pd.DataFrame:
    """Read an accepted-codes table or any coded returns file into the long table plus review columns.

    `source` ('human', 'auto', 'rule', 'pending' or '' for a plain returns file), `suggested` and
    `confidence` are kept when the file has them, so pending answers can be told apart from coded ones and
    each figure can say how much of it rests on machine codes.
    """
    df = read_returns(path, codebook, encoding=encoding)
    df["source"] = ""
    df["suggested"] = ""
    df["confidence"] = ""
    raw = read_table(path, encoding)
    extra = [c for c in ("source", "suggested", "confidence") if c in raw.columns]
    if extra and len(raw) == len(df):  # the long form: read_returns keeps row order one-to-one
        for c in extra:
            df[c] = raw[c].astype(str).str.strip().to_numpy()
    bad = ~df["source"].isin(["human", "auto", "rule", "pending", ""])
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(f"unknown source {df['source'].iat[i]!r} (expected human, auto, rule or pending)",
                         file=str(path), row=i + 2, column="source")
    for i, (q, s) in enumerate(zip(df["qid"], df["suggested"], strict=True)):
        if s:
            try:
                codebook.parse_codes(int(q), s)
            except ValueError as e:
                raise InputError(f"suggested: {e}", file=str(path), row=i + 2, column="suggested") from None
    return df


def read_published(path: str | Path) -> pd.DataFrame:
    """A published Appendix 3b (region, question, pct, secondary), checked before any report file is written."""
    pub = read_table(path)
    for c in ("region", "question", "pct"):
        if c not in pub.columns:
            raise InputError(f"missing column {c!r} (a published Appendix 3b has region, question, pct, secondary)",
                             file=str(path), row=1, column=c)
    if "secondary" not in pub.columns:
        pub["secondary"] = ""
    for i, r in enumerate(pub.itertuples(index=False)):
        if not str(r.question).strip().isdigit():
            raise InputError(f"question {r.question!r} is not a question number", file=str(path), row=i + 2,
                             column="question")
        pct = str(r.pct).strip()
        try:  # published tables hold the odd 101 (rounding): any finite number from 0 up is kept
            ok = pct == "" or 0 <= float(pct) < 1000
        except ValueError:
            ok = False
        if not ok:
            raise InputError(f"pct {r.pct!r} is not a percentage", file=str(path), row=i + 2, column="pct")
    return pub


def prepare(df: pd.DataFrame, codebook: Codebook, pending: str = "suggested",
            file: str | None = None) -> pd.DataFrame:
    """Add `status` (coded / pending / uncoded) and `report_codes` (the codes the report counts).

    Pending answers (source == 'pending', or no code yet but a model suggestion) count with their
    `suggested` code when `pending='suggested'`; with `pending='exclude'` they count under no line (they
    stay in the denominator, like a blank). Uncoded answers without a suggestion count under no line.
    """
    if pending not in PENDING_POLICIES:
        raise InputError(f"unknown pending policy {pending!r}; use one of: {', '.join(PENDING_POLICIES)}")
    df = df.copy()
    for c in ("source", "suggested", "support"):
        if c not in df.columns:
            df[c] = ""
    codes = df["codes"].fillna("").astype(str)
    suggested = df["suggested"].fillna("").astype(str).str.strip()
    is_pending = (df["source"] == "pending") | ((codes == "") & (suggested != ""))
    status = pd.Series("coded", index=df.index)
    status[codes == ""] = "uncoded"
    status[is_pending & (codes == "")] = "pending"
    used = codes.where(status == "coded", "")
    if pending == "suggested":
        take = status == "pending"
        for i in df.index[take]:
            try:
                used[i] = ";".join(codebook.parse_codes(int(df.at[i, "qid"]), suggested[i]))
            except ValueError as e:
                raise InputError(f"suggested code: {e}", file=file, row=int(i) + 2,
                                 column="suggested") from None
    df["status"] = status
    df["report_codes"] = [frozenset(c.split(";")) if c else frozenset() for c in used]
    return df


def rounds_of(df: pd.DataFrame) -> list[str]:
    return sorted(df["round"].unique())


def region_order(regions: list[str] | pd.Index) -> list[str]:
    present = [r for r in regions if r]
    return [r for r in PUBLISHED_REGIONS if r in present] + sorted(set(present) - set(PUBLISHED_REGIONS))


def half_up(x: float) -> int:
    """Round as the report's readers do (0.5 up), not Python's round-half-even."""
    return int(math.floor(x + 0.5))


def _share(mask: pd.Series, n: int) -> float:
    return round(100.0 * float(mask.sum()) / n, 1) if n else float("nan")


def appendix3b(df: pd.DataFrame, defs: ReportDefinitions) -> pd.DataFrame:
    """Every line of every theme for the nation and each region of one round of prepared returns.

    `df` is the output of `prepare` for a single round. `pct` and `secondary_pct` are percentages to one
    decimal over all localities of the group (blanks and pending answers included); `secondary` is the
    published-style text ("29% report arrangements in process"); `pending` counts answers in the group
    that were counted provisionally or not at all because they await review.
    """
    if df["round"].nunique() > 1:
        raise ValueError("appendix3b takes one round; filter the frame first")
    by_q = {q: g for q, g in df.groupby("qid")}
    groups = [(NATIONAL, None)] + [(r, r) for r in region_order(df["region"].unique())]
    rows = []
    for line in defs.lines:
        answers = by_q.get(line.question)
        if answers is None:
            continue
        codesets = answers["report_codes"]

        def hits(codes: tuple[str, ...], cs: pd.Series = codesets) -> pd.Series:
            want = frozenset(codes)
            return cs.map(lambda s: not want.isdisjoint(s))

        main = hits(line.count)
        also = hits(line.also.count) if line.also else None
        parts = [(p.label, hits(p.count)) for p in line.split]
        for name, region in groups:
            sel = answers["region"] == region if region is not None else pd.Series(True, index=answers.index)
            n = int(sel.sum())
            row = {"region": name, "theme": line.theme, "question": line.question, "line": line.label,
                   "pct": _share(main[sel], n), "secondary_pct": float("nan"), "secondary": "",
                   "n": n, "count": int(main[sel].sum()), "secondary_count": pd.NA,
                   "pending": int((answers.loc[sel, "status"] != "coded").sum())}
            if also is not None:
                sp = _share(also[sel], n)
                row.update(secondary_pct=sp, secondary_count=int(also[sel].sum()),
                           secondary=f"{half_up(sp)}% {line.also.label}")
            elif parts:
                texts = [f"{half_up(_share(m[sel], n))}% {label}" for label, m in parts]
                row["secondary"] = " and ".join(texts)
            rows.append(row)
    out = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    out["secondary_count"] = out["secondary_count"].astype("Int64")
    return out


def appendix4(df: pd.DataFrame, codebook: Codebook, min_requests: int = 5) -> pd.DataFrame:
    """Support requests per question (localities with a non-empty `support` cell), most requested first.

    Only questions with at least `min_requests` requests are kept, as the published Appendix 4 did.
    """
    has = df[df["support"].fillna("").astype(str).str.strip() != ""]
    counts = has.groupby("qid")["locality"].nunique()
    rows = [{"question": int(q), "ref": codebook.question(q).ref, "text": codebook.question(q).text,
             "requests": int(c)} for q, c in counts.items() if c >= min_requests]
    out = pd.DataFrame(rows, columns=["question", "ref", "text", "requests"])
    out = out.sort_values(["requests", "question"], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)


def compare_tables(before: pd.DataFrame, after: pd.DataFrame, before_round: str,
                   after_round: str) -> pd.DataFrame:
    """Change in percentage points per line and region between two rounds' Appendix 3b tables."""
    key = ["region", "theme", "question", "line"]
    cols = key + ["pct", "secondary_pct"]
    m = before[cols].merge(after[cols], on=key, how="outer", suffixes=("_before", "_after"), sort=False)
    out = pd.DataFrame({
        **{k: m[k] for k in key},
        "round_before": before_round, "round_after": after_round,
        "pct_before": m["pct_before"], "pct_after": m["pct_after"],
        "change_points": (m["pct_after"] - m["pct_before"]).round(1),
        "secondary_change_points": (m["secondary_pct_after"] - m["secondary_pct_before"]).round(1),
    })
    order = {r: i for i, r in enumerate(after["region"].drop_duplicates())}
    line_order = {q: i for i, q in enumerate(after["question"].drop_duplicates())}
    out["_r"] = out["region"].map(order).fillna(len(order))
    out["_q"] = out["question"].map(line_order).fillna(len(line_order))
    return out.sort_values(["_r", "_q"], kind="stable").drop(columns=["_r", "_q"]).reset_index(drop=True)


def compare_with_published(table: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Our figures beside the published Appendix 3b (`reference/appendix3b.csv`): difference in points."""
    pub = published.rename(columns={"pct": "published_pct", "secondary": "published_secondary"})
    pub = pub[["region", "question", "published_pct", "published_secondary"]].copy()
    pub["question"] = pub["question"].astype(int)
    pub["published_pct"] = pd.to_numeric(pub["published_pct"], errors="coerce")
    m = table[["region", "theme", "question", "line", "pct", "secondary", "n"]].merge(
        pub, on=["region", "question"], how="inner")
    m["difference"] = (m["pct"] - m["published_pct"]).round(1)
    return m


def pending_summary(df: pd.DataFrame) -> dict:
    """Counts for the report's banner: answers by status and by source, localities with pending answers."""
    status = df["status"].value_counts()
    src = df["source"].replace("", "returns file").value_counts()
    pend = df[df["status"] != "coded"]
    return {
        "localities": int(df["locality"].nunique()),
        "regions": int(df["region"].nunique()),
        "answers": int(len(df)),
        "coded": int(status.get("coded", 0)),
        "pending": int(status.get("pending", 0)),
        "uncoded": int(status.get("uncoded", 0)),
        "by_source": {str(k): int(v) for k, v in src.items()},
        "localities_with_pending": int(pend["locality"].nunique()),
        "provisional": bool(len(pend)),
    }
