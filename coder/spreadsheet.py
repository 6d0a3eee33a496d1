"""Tables written for people to open in a spreadsheet: one `write_table` (CSV or a real XLSX workbook), atomic,
with the formula guard; and its inverse for coder's own readers.

Answer text and names are untrusted: a cell starting `=`, `+`, `-`, `@` would run as a formula in Excel.
The guard prefixes such cells with `'` (Excel's own "this is text" mark); `unguard_cell` removes exactly
that prefix again, so a table coder writes and reads back is unchanged (a cell that itself began with `'=`
gets a second `'`, so nothing is ambiguous).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from coder.files import atomic_path

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _needs_guard(value: str) -> bool:
    return value.lstrip("'").startswith(FORMULA_STARTS)


def safe_cell(value: object) -> object:
    """A text cell a spreadsheet will not run as a formula: `=cmd|...` becomes `'=cmd|...`.

    Only strings are touched; numbers (e.g. a change of -4.5 points) stay numbers.
    """
    if isinstance(value, str) and _needs_guard(value):
        return "'" + value
    return value


def unguard_cell(value: object) -> object:
    """The inverse of `safe_cell`: what coder wrote as `'=x` reads back as `=x`."""
    if isinstance(value, str) and value.startswith("'") and _needs_guard(value[1:]):
        return value[1:]
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(safe_cell)
    return out


def unguard_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Undo `safe_frame` on a table read as strings."""
    return df.map(unguard_cell) if len(df.columns) else df


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    """Write a table a person will open: `.xlsx` gives a real workbook (one sheet, frozen header, text columns
    wrapped), anything else CSV. Atomic; formula-looking text neutralised; `returns.read_table` reads it back
    unchanged."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        write_xlsx(df, path)
    else:
        write_safe_csv(df, path)


def write_xlsx(df: pd.DataFrame, path: str | Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    fill_sheet(wb.active, df, "table")
    with atomic_path(path) as tmp:
        wb.save(tmp)


def fill_sheet(ws, df: pd.DataFrame, title: str) -> None:  # noqa: ANN001 - an openpyxl worksheet
    """One table on one sheet: bold frozen header, text columns wide and wrapped, formulas neutralised."""
    from openpyxl.styles import Alignment, Font

    safe = safe_frame(df)
    ws.title = title[:31]
    ws.append([str(c) for c in safe.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in safe.itertuples(index=False):
        ws.append([None if _missing(v) else (v.item() if hasattr(v, "item") else v) for v in row])
    ws.freeze_panes = "A2"
    wrap = Alignment(wrap_text=True, vertical="top")
    for j, c in enumerate(safe.columns, start=1):
        col = ws.cell(1, j).column_letter
        texts = safe[c].astype(str)
        longest = int(texts.str.len().max()) if len(texts) else 0
        is_text = safe[c].dtype == object or pd.api.types.is_string_dtype(safe[c])
        if is_text and longest > 30:  # text columns: wide enough to read, wrapped
            ws.column_dimensions[col].width = 60
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.alignment = wrap
        else:
            ws.column_dimensions[col].width = max(8, min(30, max(longest, len(str(c))) + 2))


def _missing(v: object) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def write_safe_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Atomic CSV write with formula-looking text neutralised (answers and names are untrusted)."""
    with atomic_path(path) as tmp:
        safe_frame(df).to_csv(tmp, index=False)


def write_csv_atomic(df: pd.DataFrame, path: str | Path) -> None:
    """Write via a temporary file and rename, so a crash never leaves half a file (no guard: data files)."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
