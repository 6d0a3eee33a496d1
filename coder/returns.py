"""Reading returns: the long form and the wide spreadsheet form, from CSV or XLSX, checked against a codebook.

Everything downstream works on one tidy long table (`RETURN_COLUMNS`), whatever the analyst saved.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import re
from pathlib import Path

import pandas as pd

from coder.codebook import Codebook, format_codes
from coder.errors import InputError
from coder.spreadsheet import unguard_frame

RETURN_COLUMNS = ["round", "locality", "region", "qid", "ref", "text", "codes", "support", "source_id"]
LONG_REQUIRED = ["locality", "region", "text"]
DEFAULT_ROUND = "unspecified"
CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
KEY = ["round", "locality", "qid"]


def read_table(path: str | Path, encoding: str = "utf-8", sheet: str | None = None) -> pd.DataFrame:
    """Read a CSV or XLSX as strings, blanks as ''. Errors name the file and, for encodings, the row.

    A workbook is read from `sheet` when it has a sheet of that name, else from its first sheet."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=str(path))
    if path.is_dir():
        raise InputError("a folder, not a file", file=str(path))
    if not path.is_file():  # a pipe or device (/dev/zero) would be read forever
        raise InputError("not a plain file (a device or pipe)", file=str(path))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return unguard_frame(read_workbook(path, sheet))  # coder's own tables carry the formula guard: undo it
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError("the file is empty", file=str(path))
    try:
        text = raw.decode("utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding)
    except UnicodeDecodeError as e:
        if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise InputError("the file is UTF-16 text: re-save it as 'CSV UTF-8' (or pass --encoding utf-16)",
                             file=str(path), row=1) from None
        row, column = _locate_byte(raw, e.start)
        if encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
            raise InputError(f"byte 0x{raw[e.start]:02x} is not valid {encoding}: re-save the file as 'CSV UTF-8'",
                             file=str(path), row=row, column=column) from None
        raise InputError(
            f"byte 0x{raw[e.start]:02x} is not valid {encoding}; the file looks like it was saved by Excel "
            f"as 'CSV' (cp1252): re-save it as 'CSV UTF-8' or pass --encoding cp1252",
            file=str(path), row=row, column=column) from None
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}", file=str(path)) from None
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty", file=str(path)) from None
    except pd.errors.ParserError as e:
        m = re.search(r"line (\d+)", str(e))
        raise InputError(f"not a well-formed CSV ({e})", file=str(path),
                         row=int(m.group(1)) if m else None) from None
    df.columns = [_header(c) for c in df.columns]
    _refuse_duplicate_columns(_csv_header(text), str(path))
    _refuse_control_characters(df, str(path))
    return unguard_frame(df)  # coder's own tables carry the spreadsheet formula guard: undo it


def read_workbook(path: Path, sheet: str | None = None) -> pd.DataFrame:
    """The first sheet (or `sheet`, when the workbook has it) as strings (header = row 1), refusing what would
    silently lose data.

    A formula cell with no saved value (the workbook was written by a program, never opened in Excel) would
    read as a blank answer; a date cell would read as `2014-05-01 00:00:00`. Both are named instead.
    """
    import openpyxl

    try:
        values, formulas = (_sheet(openpyxl.load_workbook(path, read_only=True, data_only=only), sheet)
                            for only in (True, False))
        grid: list[list[str]] = []
        for r, (cells, forms) in enumerate(zip(values.iter_rows(), formulas.iter_rows(values_only=True),
                                               strict=False), start=1):
            row = []
            for j, (cell, f) in enumerate(zip(cells, forms, strict=False)):
                v = cell.value
                column = _header(grid[0][j]) if grid and j < len(grid[0]) else openpyxl.utils.get_column_letter(j + 1)
                if v is None and isinstance(f, str) and f.startswith("="):
                    raise InputError("a formula with no saved value: open the workbook in Excel and save it, or "
                                     "paste the values", file=str(path), row=r, column=column)
                if getattr(cell, "data_type", None) == "e":  # #REF!, #N/A...: the answer is lost, not text
                    raise InputError(f"an Excel error value ({v}), not an answer: fix the cell in Excel",
                                     file=str(path), row=r, column=column)
                if isinstance(v, datetime.date | datetime.time):
                    raise InputError(f"a date or time ({v}), not text: format the cell as text (e.g. 2014-05)",
                                     file=str(path), row=r, column=column)
                row.append("" if v is None else str(v))
            grid.append(row)
    except InputError:
        raise
    except Exception as e:  # openpyxl raises many kinds for a damaged workbook
        raise InputError(f"cannot read as an Excel workbook ({type(e).__name__})", file=str(path)) from None
    while grid and not any(c.strip() for c in grid[-1]):
        grid.pop()
    if not grid:
        raise InputError("the workbook's first sheet is empty", file=str(path))
    width = len(grid[0])
    header = [_header(c) for c in grid[0]]
    body = [(r + [""] * width)[:width] for r in grid[1:]]
    # unnamed columns are kept only where they hold something (then they are named, as a CSV would be)
    keep = [j for j, h in enumerate(header) if h != "" or any(r[j].strip() for r in body)]
    header = [header[j] or openpyxl.utils.get_column_letter(j + 1) for j in keep]
    _refuse_duplicate_columns(header, str(path))
    df = pd.DataFrame([[r[j] for j in keep] for r in body], columns=header, dtype=str)
    _refuse_control_characters(df, str(path))
    return df


def _sheet(workbook, name: str | None):  # noqa: ANN001 - an openpyxl workbook
    """The sheet called `name`, else the first sheet the analyst can see (a hidden sheet holds old or helper
    data, not the returns)."""
    if name and name in workbook.sheetnames:
        return workbook[name]
    visible = [ws for ws in workbook.worksheets if getattr(ws, "sheet_state", "visible") == "visible"]
    return (visible or workbook.worksheets)[0]


def _csv_header(text: str) -> list[str]:
    """The CSV's first row as written (pandas renames a repeated name `text` to `text.1`, silently)."""
    try:
        return [_header(c) for c in next(csv.reader(io.StringIO(text, newline="")), [])]
    except csv.Error:
        return []


def _refuse_duplicate_columns(header: list[str], file: str) -> None:
    """Two columns of one name: which one holds the answers is a guess, so the file is refused."""
    seen: set[str] = set()
    for h in header:
        if h and h in seen:
            raise InputError(f"two columns are named {h!r}: rename or delete one", file=file, row=1, column=h)
        seen.add(h)


def _refuse_control_characters(df: pd.DataFrame, file: str) -> None:
    """NUL and other control characters (not tab or line breaks) are never real answer text: name the cell."""
    for c in df.columns:
        bad = df[c].astype(str).str.contains(CONTROL, regex=True)
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise InputError("the cell holds control characters (NUL or similar): the file is damaged or not text",
                             file=file, row=i + 2, column=str(c))
    bad_headers = [c for c in df.columns if re.search(CONTROL, str(c))]
    if bad_headers:
        raise InputError("a column name holds control characters", file=file, row=1)


def _header(c: object) -> str:
    s = str(c).strip()
    return s[:-2] if re.fullmatch(r"\d+\.0", s) else s


def _locate_byte(raw: bytes, pos: int) -> tuple[int, str | None]:
    """Spreadsheet row (header = 1) and column name holding byte `pos` of a CSV."""
    prefix = raw[:pos].decode("utf-8", errors="replace")
    if prefix.count('"') % 2:  # the byte sits inside a quoted field: close it so the field counts
        prefix += '"'
    try:
        records = list(csv.reader(io.StringIO(prefix, newline="")))
        header = next(csv.reader(io.StringIO(raw.decode("utf-8", errors="replace"), newline="")), [])
    except csv.Error:  # not CSV at all (binary garbage): the file is named without a cell
        return 1, None
    row = max(len(records), 1)
    col_index = len(records[-1]) - 1 if records else 0
    column = header[col_index] if 0 <= col_index < len(header) else None
    return row, column


def read_returns(path: str | Path, codebook: Codebook, encoding: str = "utf-8",
                 require_codes: bool = False) -> pd.DataFrame:
    """Read returns in long or wide form into the long table, validating qids and codes.

    `codes` is the canonical cell (`1`, `2;5`, `NR`) or '' where the answer is not coded yet.
    """
    out = tidy_returns(read_table(path, encoding), codebook, str(path))
    if require_codes and not (out["codes"] != "").any():
        raise InputError("no row has codes: training needs hand-coded answers", file=str(path), column="codes")
    return out


def tidy_returns(df: pd.DataFrame, codebook: Codebook, file: str) -> pd.DataFrame:
    """A table as read (`read_table`) in long or wide form -> the long table, validated; errors name `file`."""
    if df.empty:
        raise InputError("the file has a header but no rows", file=file)
    if "qid" in df.columns or ("ref" in df.columns and "text" in df.columns):
        return _from_long(df, codebook, file)
    return _from_wide(df, codebook, file)


def _missing(df: pd.DataFrame, cols: list[str], file: str) -> None:
    for c in cols:
        if c not in df.columns:
            raise InputError(f"missing column {c!r} (columns found: {', '.join(df.columns)}){_separator_hint(df)}",
                             file=file, row=1, column=c)


def _separator_hint(df: pd.DataFrame) -> str:
    """Excel in many locales saves 'CSV' with semicolons: one header cell holding them says so."""
    if len(df.columns) == 1:
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in str(df.columns[0]):
                return f"; the columns look separated by {name}: save the file as comma-separated CSV"
    return ""


def _from_long(df: pd.DataFrame, cb: Codebook, file: str) -> pd.DataFrame:
    _missing(df, LONG_REQUIRED, file)
    rows = []
    for i, rec in enumerate(df.to_dict("records")):
        rowno = i + 2
        qid = _qid_of(rec, cb, file, rowno)
        rows.append(_tidy(rec, qid, cb, file, rowno, "codes"))
    return _finish(pd.DataFrame(rows, columns=RETURN_COLUMNS + ["_row"]), file)


def _qid_of(rec: dict, cb: Codebook, file: str, rowno: int) -> int:
    q = str(rec.get("qid", "")).strip()
    ref = str(rec.get("ref", "")).strip()
    if q:
        m = re.fullmatch(r"[Qq]?([0-9]+)(\.0)?", q)
        if not m or int(m.group(1)) not in cb.by_id:
            raise InputError(f"unknown question {q!r} (codebook {cb.name} has {_qid_span(cb)})", file=file,
                             row=rowno, column="qid")
        qid = int(m.group(1))
        if ref and ref != cb.by_id[qid].ref:
            raise InputError(f"ref {ref!r} does not match question {qid}, whose ref is {cb.by_id[qid].ref}",
                             file=file, row=rowno, column="ref")
        return qid
    if ref in cb.by_ref:
        return cb.by_ref[ref].id
    raise InputError(f"unknown question ref {ref!r}", file=file, row=rowno, column="ref" if ref else "qid")


def _qid_span(cb: Codebook) -> str:
    ids = sorted(cb.by_id)
    return f"questions {ids[0]}-{ids[-1]}"


def _tidy(rec: dict, qid: int, cb: Codebook, file: str, rowno: int, codes_col: str,
          text: str | None = None, codes: str | None = None, support: str | None = None) -> dict:
    text = _clean(rec.get("text", "") if text is None else text)
    codes_raw = _clean(rec.get(codes_col, "") if codes is None else codes)
    parsed = ""
    if codes_raw:
        try:
            parsed = format_codes(cb.parse_codes(qid, codes_raw))
        except ValueError as e:
            raise InputError(str(e), file=file, row=rowno, column=codes_col) from None
    locality = _clean(rec.get("locality", ""))
    if not locality:
        raise InputError("locality is empty", file=file, row=rowno, column="locality")
    round_ = _clean(rec.get("round", ""))
    if not round_:
        if "round" in rec:
            raise InputError("round is empty", file=file, row=rowno, column="round")
        round_ = DEFAULT_ROUND
    if parsed and parsed != cb.blank_code and not text:
        raise InputError(f"a blank answer coded {parsed!r}: a blank answer is {cb.blank_code}", file=file,
                         row=rowno, column=codes_col)
    source_id = _clean(rec.get("source_id", "")) or ("t:" + hashlib.sha1(text.encode()).hexdigest()[:12])
    return {
        "round": round_,
        "locality": locality,
        "region": _clean(rec.get("region", "")),
        "qid": qid,
        "ref": cb.by_id[qid].ref,
        "text": text,
        "codes": parsed,
        "support": _clean(rec.get("support", "") if support is None else support),
        "source_id": source_id,
        "_row": rowno,
    }


def _clean(v: object) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    s = str(v).replace("\r\n", "\n").strip()
    return "" if s.lower() == "nan" and not isinstance(v, str) else s


def _wide_columns(df: pd.DataFrame, cb: Codebook) -> dict[str, int]:
    """Map each question column of a wide sheet to its qid (`7`, `Q7`, `1.7`)."""
    out: dict[str, int] = {}
    for c in df.columns:
        m = re.fullmatch(r"[Qq]?([0-9]+)", c)
        if m and int(m.group(1)) in cb.by_id:
            out[c] = int(m.group(1))
        elif c in cb.by_ref:
            out[c] = cb.by_ref[c].id
    return out


def _from_wide(df: pd.DataFrame, cb: Codebook, file: str) -> pd.DataFrame:
    qcols = _wide_columns(df, cb)
    if not qcols:
        raise InputError("no 'qid' column (long form) and no question columns such as '1', 'Q1' or '1.1' "
                         f"(wide form){_separator_hint(df)}", file=file, row=1, column="qid")
    _missing(df, ["locality", "region"], file)
    for c in df.columns:
        base = re.sub(r"_(code|codes|support)$", "", c)
        if base != c and base not in qcols:
            raise InputError(f"column {c!r} names no question column {base!r}", file=file, row=1, column=c)
    known = set(qcols) | {f"{c}_{s}" for c in qcols for s in ("code", "codes", "support")} | {
        "locality", "region", "round"}
    unknown_q = [c for c in df.columns if c not in known and re.fullmatch(r"[Qq]?\d+(\.\d+)?", c)]
    if unknown_q:
        raise InputError(f"unknown question column {unknown_q[0]!r} (codebook {cb.name} has {_qid_span(cb)})",
                         file=file, row=1, column=unknown_q[0])
    rows = []
    for i, rec in enumerate(df.to_dict("records")):
        for col, qid in qcols.items():
            code_col = f"{col}_code" if f"{col}_code" in df.columns else f"{col}_codes"
            rows.append(_tidy(rec, qid, cb, file, i + 2, code_col, text=rec.get(col, ""),
                              codes=rec.get(code_col, ""), support=rec.get(f"{col}_support", "")))
    return _finish(pd.DataFrame(rows, columns=RETURN_COLUMNS + ["_row"]), file)


def _finish(out: pd.DataFrame, file: str) -> pd.DataFrame:
    dup = out.duplicated(KEY, keep="first")
    if dup.any():
        r = out[dup].iloc[0]
        first = out[(out["round"] == r["round"]) & (out["locality"] == r["locality"]) & (out["qid"] == r["qid"])]
        raise InputError(
            f"duplicate answer for round {r['round']}, locality {r['locality']!r}, question {r['qid']} "
            f"(first at row {first['_row'].iloc[0]})", file=file, row=int(r["_row"]), column="qid")
    return out.drop(columns="_row").reset_index(drop=True)


def to_wide(long: pd.DataFrame) -> pd.DataFrame:
    """The spreadsheet form analysts keep: one row per (round, locality), `Q<n>` and `Q<n>_code` columns."""
    idx = ["round", "locality", "region"]
    text = long.pivot_table(index=idx, columns="qid", values="text", aggfunc="first")
    codes = long.pivot_table(index=idx, columns="qid", values="codes", aggfunc="first")
    parts = []
    for q in sorted(long["qid"].unique()):
        parts.append(text[q].rename(f"Q{q}"))
        parts.append(codes[q].rename(f"Q{q}_code"))
    return pd.concat(parts, axis=1).reset_index().fillna("")
