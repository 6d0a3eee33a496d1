"""Codes back in the shape the returns came in: one row per area, each question's answer and code side by
side (`Q7`, `Q7_code`), coloured by what the code rests on.

The workbook is the wide form `coder.returns.read_returns` reads, so reading it back gives the same codes:
human, auto and rule codes are in `Q7_code`; an answer waiting for review has an empty code cell (a model
suggestion is not a decision) with the suggestion in a cell comment. A `Legend` sheet explains the fills;
the header row and the area columns are frozen. Every text cell goes through `safe_cell` (answers are
untrusted, and a cell starting `=` would run as a formula).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from coder.files import atomic_path
from coder.spreadsheet import fill_sheet, safe_cell
from coder.suggestions import LONG_SHEET

FILLS = {"human": "C6EFCE", "auto": "DDEBF7", "rule": "EDEDED", "pending": "FFEB9C"}
MEANING = {
    "human": "coded by a person (a reviewer in Label Studio, or a code already in the input)",
    "auto": "coded by the model with enough confidence to be accepted without review",
    "rule": "coded by a rule (a blank answer is NR)",
    "pending": "waiting for review: no code yet; the model's suggestion is in the cell's comment",
}
AREA_COLUMNS = ["round", "locality", "region"]


def suggestions_as_accepted(suggestions: pd.DataFrame) -> pd.DataFrame:
    """What the suggestions alone settle, in the accepted table's terms: auto- and rule-coded answers keep
    their code, codes a person gave in the input are human, everything routed to review is pending."""
    s = suggestions.copy()
    given = s["human_codes"].fillna("").astype(str).str.strip() if "human_codes" in s.columns else ""
    given = given.where(given.str.lower() != "nan", "") if isinstance(given, pd.Series) else pd.Series("", s.index)
    rule = s["model_version"].astype(str) == "rule"
    auto = s["route"] == "auto"
    s["source"] = "pending"
    s.loc[auto, "source"] = "auto"
    s.loc[auto & rule, "source"] = "rule"
    s.loc[given != "", "source"] = "human"
    s["codes"] = s["suggested"].where(auto, "")
    s.loc[given != "", "codes"] = given[given != ""]
    return s


def write_wide(table: pd.DataFrame, path: str | Path, title: str = "Codes",
               suggestions: pd.DataFrame | None = None) -> dict[str, int]:
    """Write the accepted codes (`coder accept`'s table, or `suggestions_as_accepted`) as a wide workbook.

    With `suggestions`, the workbook also holds them long-form on the `LONG_SHEET` sheet, which
    `read_suggestions` reads: `coder review push` and `coder accept` take the workbook as it is.

    Returns how many code cells of each source were written.
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill

    t = table.copy()
    for c in ("support", "suggested", "confidence", "source", "region"):
        if c not in t.columns:
            t[c] = ""
    t["qid"] = t["qid"].astype(int)
    qids = sorted(t["qid"].unique())
    with_support = {q for q in qids if t.loc[t["qid"] == q, "support"].fillna("").astype(str).str.strip().any()}
    header = list(AREA_COLUMNS)
    for q in qids:
        header += [f"Q{q}", f"Q{q}_code"] + ([f"Q{q}_support"] if q in with_support else [])
    col = {h: i + 1 for i, h in enumerate(header)}
    fills = {k: PatternFill("solid", start_color=v, end_color=v) for k, v in FILLS.items()}
    counts = dict.fromkeys(FILLS, 0)

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    areas = t[AREA_COLUMNS].astype(str).drop_duplicates(["round", "locality"]).sort_values(["round", "locality"])
    row_of = {(r, loc): i + 2 for i, (r, loc) in enumerate(zip(areas["round"], areas["locality"], strict=True))}
    for (r, loc, reg), i in zip(areas.itertuples(index=False), row_of.values(), strict=True):
        for name, value in (("round", r), ("locality", loc), ("region", reg)):
            ws.cell(i, col[name], safe_cell(value))
    for a in t.itertuples(index=False):
        i = row_of[(str(a.round), str(a.locality))]
        ws.cell(i, col[f"Q{a.qid}"], safe_cell(_text(a.text))).alignment = wrap
        code = ws.cell(i, col[f"Q{a.qid}_code"], safe_cell(_text(a.codes)) or None)
        source = str(a.source) if str(a.source) in fills else ("human" if _text(a.codes) else "pending")
        code.fill = fills[source]
        counts[source] += 1
        if source == "pending" and _text(a.suggested):
            conf = pd.to_numeric(pd.Series([a.confidence]), errors="coerce").iloc[0]
            note = f"model suggests {_text(a.suggested)}" + ("" if pd.isna(conf) else f" (confidence {conf:.2f})")
            code.comment = Comment(note, "coder")
        if a.qid in with_support and _text(a.support):
            ws.cell(i, col[f"Q{a.qid}_support"], safe_cell(_text(a.support)))
    for h, j in col.items():
        letter = ws.cell(1, j).column_letter
        ws.column_dimensions[letter].width = 10 if h.endswith("_code") or h == "round" else (
            18 if h in ("locality", "region") else 40)
    ws.freeze_panes = ws.cell(2, len(AREA_COLUMNS) + 1)

    legend = wb.create_sheet("Legend")
    legend.append(["fill", "source", "meaning", "code cells"])
    for cell in legend[1]:
        cell.font = Font(bold=True)
    for k in FILLS:
        legend.append(["", k, MEANING[k], counts[k]])
        legend.cell(legend.max_row, 1).fill = fills[k]
    legend.append([])
    legend.append(["", "", safe_cell(f"`{ws.title}`: one row per area; Q<n> is the answer, Q<n>_code its code. "
                                     "coder reads this workbook back as a returns file.")])
    legend.column_dimensions["B"].width = 10
    legend.column_dimensions["C"].width = 80
    if suggestions is not None:
        legend.append(["", "", f"`{LONG_SHEET}`: every suggestion, a row per answer, as coder review push reads it."])
        fill_sheet(wb.create_sheet(), suggestions, LONG_SHEET)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return counts


def _text(v: object) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    s = str(v)
    return "" if s == "nan" else ILLEGAL_CHARACTERS_RE.sub("", s)
