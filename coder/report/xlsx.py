"""The report's workbooks: Appendix 3b laid out like the published tables, and each locality's pro-forma.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from coder.files import atomic_path
from coder.report.proforma import Proforma
from coder.report.tables import half_up
from coder.spreadsheet import safe_cell

FLAG_FILL_COLOUR = "F8CBAD"


BASIS_HEADER = ["Human", "Rule", "Machine", "Machine could move (points)", "Flag"]
BASIS_NOTE = ("Human / Rule / Machine: how many of the figure's answers a person, a rule (blank = NR) and the "
              "model coded. 'Machine could move': expected points the machine codes could move the figure "
              "(from their calibrated confidences); CHECK where more than 2: review those answers first.")


def write_appendix3b_xlsx(table: pd.DataFrame, path: str | Path, title: str = "") -> None:
    """A workbook with a sheet per region laid out like the published tables (Q, line, %, Responses)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    FLAG_FILL = PatternFill("solid", start_color=FLAG_FILL_COLOUR, end_color=FLAG_FILL_COLOUR)  # noqa: N806
    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    has_basis = "machine" in table.columns
    for region, rows in table.groupby("region", sort=False):
        ws = wb.create_sheet(sheet_name(str(region), wb.sheetnames))
        ws.append([safe_cell(f"Report: - {region}")])
        ws["A1"].font = Font(bold=True, size=13)
        if title:
            ws.append([safe_cell(title)])
        for theme, lines in rows.groupby("theme", sort=False):
            ws.append([])
            ws.append(["Q", safe_cell(str(theme)), "%", "Responses", "n"]
                      + (BASIS_HEADER if has_basis else []))
            for cell in ws[ws.max_row]:
                cell.font = bold
            for r in lines.itertuples():
                pct = None if pd.isna(r.pct) else half_up(r.pct)
                basis = [int(r.human), int(r.rule), int(r.machine), float(r.machine_error),
                         "CHECK" if r.flag else ""] if has_basis else []
                ws.append([int(r.question), safe_cell(r.line), pct, safe_cell(r.secondary), int(r.n)] + basis)
                ws.cell(ws.max_row, 3).number_format = '0"%"'
                if has_basis and r.flag:
                    for c in (3, 10):
                        ws.cell(ws.max_row, c).fill = FLAG_FILL
        ws.column_dimensions["A"].width = 5
        ws.column_dimensions["B"].width = 78
        ws.column_dimensions["C"].width = 7
        ws.column_dimensions["D"].width = 44
        if has_basis:
            for col, width in zip("FGHIJ", (8, 8, 9, 14, 8), strict=True):
                ws.column_dimensions[col].width = width
            ws.append([])
            ws.append([None, BASIS_NOTE])
        for row in ws.iter_rows(min_col=2, max_col=2):
            row[0].alignment = Alignment(wrap_text=True, vertical="top")
    with atomic_path(path) as tmp:
        wb.save(tmp)


def sheet_name(name: str, taken: list[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = re.sub(r"[\[\]:*?/\\]", "-", name).strip("'") or "sheet"
    base = base[:31]
    out, k = base, 2
    while out.lower() in (t.lower() for t in taken):
        suffix = f" ({k})"
        out, k = base[: 31 - len(suffix)] + suffix, k + 1
    return out


def write_proforma_xlsx(p: Proforma, path: str | Path) -> None:
    """The locality's spreadsheet: its answers and codes; strengths and developments; support asked for."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from coder.files import atomic_path

    wb = Workbook()
    ws = wb.active
    ws.title = sheet_name("Analysis", [])
    bold = Font(bold=True)
    title = f"Stocktake of progress: local analysis, {p.locality} ({p.region}), round {p.round}"
    ws.append([safe_cell(title)])
    ws["A1"].font = Font(bold=True, size=13)
    if p.pending:
        ws.append([f"PROVISIONAL: {p.pending} answer(s) still awaiting review"])
    ws.append([])
    ws.append(["Key strengths", "Areas for development / potential development"])
    for c in ws[ws.max_row]:
        c.font = bold
    for i in range(max(len(p.strengths), len(p.developments))):
        ws.append([safe_cell(p.strengths[i]) if i < len(p.strengths) else None,
                   safe_cell(p.developments[i]) if i < len(p.developments) else None])
    ws.append([])
    ws.append(["Dimensions of the stocktake about which you have requested support"])
    ws.cell(ws.max_row, 1).font = bold
    for ref, question, support in p.support:
        ws.append([safe_cell(f"{ref} {question}"), safe_cell(support)])
    ws.column_dimensions["A"].width = 70
    ws.column_dimensions["B"].width = 70

    qs = wb.create_sheet("Responses")
    qs.append(["Ref", "Question", "Your response", "Code", "Coding", "Support requested", "Status"])
    for c in qs[1]:
        c.font = bold
    for r in p.answers.itertuples():
        qs.append([safe_cell(r.ref), safe_cell(r.question), safe_cell(r.answer), safe_cell(r.codes),
                   safe_cell(r.code_labels), safe_cell(r.support), r.status])
    for col, width in zip("ABCDEFG", (6, 50, 80, 8, 30, 40, 10), strict=True):
        qs.column_dimensions[col].width = width
    # One shared style on the long-text cells only: styling every cell made this the slowest step.
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in qs.iter_rows(min_row=2, min_col=2, max_col=3):
        for c in row:
            c.alignment = wrap
    with atomic_path(path) as tmp:
        wb.save(tmp)
