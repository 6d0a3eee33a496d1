"""Tables written for people to open in a spreadsheet: atomic CSV writes and the formula guard.

Answer text and names are untrusted: a cell starting `=`, `+`, `-`, `@` would run as a formula in Excel.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from coder.files import atomic_path

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A text cell a spreadsheet will not run as a formula: `=cmd|...` becomes `'=cmd|...`.

    Only strings are touched; numbers (e.g. a change of -4.5 points) stay numbers.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(safe_cell)
    return out


def write_safe_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Atomic CSV write with formula-looking text neutralised (answers and names are untrusted)."""
    with atomic_path(path) as tmp:
        safe_frame(df).to_csv(tmp, index=False)


def write_csv_atomic(df: pd.DataFrame, path: str | Path) -> None:
    """Write via a temporary file and rename, so a crash never leaves half a file."""
    from coder.files import atomic_path

    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
