"""The usual reports from coded returns: Appendix 3b tables, Appendix 4 support counts, change between rounds.

Report lines are data (`codebook/report-2013.yaml`): each line counts the localities whose answer to a
question carries one of its codes, over all localities of the group (blanks included), as the 2013
report did. Everything here is a function over a long coded DataFrame so a notebook can call it; the
files the CLI writes are produced by `write_report`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from coder.codebook import Codebook, read_yaml
from coder.errors import InputError
from coder.files import atomic_path, write_json_atomic
from coder.returns import read_returns, read_table

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DEFINITIONS = PROJECT_DIR / "codebook" / "report-2013.yaml"

NATIONAL = "National"
# The order Appendix 3b prints its regional tables in; other regions follow alphabetically.
PUBLISHED_REGIONS = ("North West", "East Midlands", "West Midlands", "South East", "South West", "London",
                     "North East", "East", "Yorkshire and Humber")
PENDING_POLICIES = ("suggested", "exclude")
TABLE_COLUMNS = ["region", "theme", "question", "line", "pct", "secondary_pct", "secondary", "n", "count",
                 "secondary_count", "pending"]


# ---------------------------------------------------------------------------------------------------------
# Report definitions


@dataclass(frozen=True)
class Figure:
    """A labelled count over codes: the secondary figure (`also`) or one part of a `split`."""

    label: str
    count: tuple[str, ...]


@dataclass(frozen=True)
class ReportLine:
    """One Appendix 3b line: the share of localities whose answer to `question` carries a `count` code.

    `positive` is False for lines where being counted is not a strength (e.g. a barrier reported); the
    pro-forma then lists the line under areas for development instead.
    """

    theme: str
    question: int
    label: str
    count: tuple[str, ...]
    also: Figure | None = None
    split: tuple[Figure, ...] = ()
    assumed: bool = False
    positive: bool = True

    @property
    def key(self) -> str:
        """A file-name-safe id, e.g. `q05`."""
        return f"q{self.question:02d}"

    @property
    def short(self) -> str:
        """The label without its leading '% of places' / '% reporting', for pro-forma sentences."""
        s = re.sub(r"^%\s*(of places|reporting|of|that report|where|using|developing|including)?\s*", "",
                   self.label).strip()
        return s[:1].upper() + s[1:]


@dataclass(frozen=True)
class Theme:
    name: str
    lines: tuple[ReportLine, ...]


@dataclass(frozen=True)
class ReportDefinitions:
    codebook: str
    denominator: str
    themes: tuple[Theme, ...]
    path: str = field(default="", compare=False)
    sha256: str = field(default="", compare=False)

    @property
    def lines(self) -> list[ReportLine]:
        return [ln for t in self.themes for ln in t.lines]


def load_report_definitions(path: str | Path | None = None,
                            codebook: Codebook | None = None) -> ReportDefinitions:
    """Load and validate report definitions; every error names the file and the key at fault.

    With a codebook, each line's question and codes are checked against it too.
    """
    path = Path(path) if path else DEFAULT_DEFINITIONS
    data, sha256 = read_yaml(path, "report definitions")
    return parse_report_definitions(data, source=str(path), codebook=codebook, sha256=sha256)


def parse_report_definitions(data: object, source: str = "<report definitions>",
                             codebook: Codebook | None = None, sha256: str = "") -> ReportDefinitions:
    def fail(key: str, msg: str) -> InputError:
        return InputError(f"{key}: {msg}", file=source)

    if not isinstance(data, dict):
        raise fail("(top)", "report definitions are a mapping with codebook and themes")
    if codebook is not None and data.get("codebook") not in (None, codebook.name):
        raise fail("codebook",
                   f"definitions are for codebook {data.get('codebook')!r}, not {codebook.name!r}")
    themes_raw = data.get("themes")
    if not isinstance(themes_raw, list) or not themes_raw:
        raise fail("themes", "missing or not a non-empty list")

    def codes_of(key: str, value: object, qid: int) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise fail(key, "must be a non-empty list of codes")
        codes = tuple(str(v).strip() for v in value)
        if codebook is not None:
            q = codebook.by_id[qid]
            bad = [c for c in codes if c not in q.code_values]
            if bad:
                raise fail(key, f"code {bad[0]!r} is not a code of question {qid} ({q.ref}); "
                                f"allowed: {', '.join(q.code_values)}")
        return codes

    def figure(key: str, value: object, qid: int) -> Figure:
        if not isinstance(value, dict) or "label" not in value or "count" not in value:
            raise fail(key, "needs label and count")
        return Figure(str(value["label"]).strip(), codes_of(f"{key}.count", value["count"], qid))

    themes = []
    known = {"question", "label", "count", "also", "split", "assumed", "positive"}
    for i, t in enumerate(themes_raw):
        tkey = f"themes[{i}]"
        if not isinstance(t, dict) or not str(t.get("name", "")).strip():
            raise fail(f"{tkey}.name", "missing")
        if not isinstance(t.get("lines"), list) or not t["lines"]:
            raise fail(f"{tkey}.lines", "missing or not a non-empty list")
        lines = []
        for j, ln in enumerate(t["lines"]):
            key = f"{tkey}.lines[{j}]"
            if not isinstance(ln, dict):
                raise fail(key, "must be a mapping")
            unknown = sorted(set(ln) - known)
            if unknown:
                raise fail(f"{key}.{unknown[0]}", f"unknown key (known: {', '.join(sorted(known))})")
            for k in ("question", "label", "count"):
                if k not in ln:
                    raise fail(f"{key}.{k}", "missing")
            try:
                qid = int(ln["question"])
            except (TypeError, ValueError):
                raise fail(f"{key}.question", f"not a whole number: {ln['question']!r}") from None
            if codebook is not None and qid not in codebook.by_id:
                raise fail(f"{key}.question", f"question {qid} is not in codebook {codebook.name!r}")
            also = figure(f"{key}.also", ln["also"], qid) if ln.get("also") is not None else None
            split_raw = ln.get("split") or []
            if not isinstance(split_raw, list):
                raise fail(f"{key}.split", "must be a list of {label, count}")
            split = tuple(figure(f"{key}.split[{k}]", s, qid) for k, s in enumerate(split_raw))
            if also and split:
                raise fail(key, "has both also and split; a line prints one secondary figure")
            for flag in ("assumed", "positive"):
                if flag in ln and not isinstance(ln[flag], bool):
                    raise fail(f"{key}.{flag}", "must be true or false")
            lines.append(ReportLine(str(t["name"]).strip(), qid, str(ln["label"]).strip(),
                                    codes_of(f"{key}.count", ln["count"], qid), also, split,
                                    bool(ln.get("assumed", False)), bool(ln.get("positive", True))))
        themes.append(Theme(str(t["name"]).strip(), tuple(lines)))
    return ReportDefinitions(str(data.get("codebook", "")), str(data.get("denominator", "")), tuple(themes),
                             path=source, sha256=sha256)


# ---------------------------------------------------------------------------------------------------------
# Input


def read_coded(path: str | Path, codebook: Codebook, encoding: str = "utf-8") -> pd.DataFrame:
    """Read an accepted-codes table or any coded returns file into the long table plus review columns.

    `source` ('human', 'auto', 'rule', 'pending' or '' for a plain returns file) and `suggested` are kept
    when the file has them, so pending answers can be told apart from coded ones.
    """
    df = read_returns(path, codebook, encoding=encoding)
    df["source"] = ""
    df["suggested"] = ""
    raw = read_table(path, encoding)
    extra = [c for c in ("source", "suggested") if c in raw.columns]
    if extra and len(raw) == len(df):  # the long form: read_returns keeps row order one-to-one
        for c in extra:
            df[c] = raw[c].astype(str).str.strip().to_numpy()
    return df


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


# ---------------------------------------------------------------------------------------------------------
# Tables


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


# ---------------------------------------------------------------------------------------------------------
# Safe spreadsheet cells

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


def write_appendix3b_xlsx(table: pd.DataFrame, path: str | Path, title: str = "") -> None:
    """A workbook with a sheet per region laid out like the published tables (Q, line, %, Responses)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    for region, rows in table.groupby("region", sort=False):
        ws = wb.create_sheet(_sheet_name(str(region), wb.sheetnames))
        ws.append([safe_cell(f"Report: - {region}")])
        ws["A1"].font = Font(bold=True, size=13)
        if title:
            ws.append([safe_cell(title)])
        for theme, lines in rows.groupby("theme", sort=False):
            ws.append([])
            ws.append(["Q", safe_cell(str(theme)), "%", "Responses", "n"])
            for cell in ws[ws.max_row]:
                cell.font = bold
            for r in lines.itertuples():
                pct = None if pd.isna(r.pct) else half_up(r.pct)
                ws.append([int(r.question), safe_cell(r.line), pct, safe_cell(r.secondary), int(r.n)])
                ws.cell(ws.max_row, 3).number_format = '0"%"'
        ws.column_dimensions["A"].width = 5
        ws.column_dimensions["B"].width = 78
        ws.column_dimensions["C"].width = 7
        ws.column_dimensions["D"].width = 44
        for row in ws.iter_rows(min_col=2, max_col=2):
            row[0].alignment = Alignment(wrap_text=True, vertical="top")
    with atomic_path(path) as tmp:
        wb.save(tmp)


def _sheet_name(name: str, taken: list[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = re.sub(r"[\[\]:*?/\\]", "-", name).strip("'") or "sheet"
    base = base[:31]
    out, k = base, 2
    while out.lower() in (t.lower() for t in taken):
        suffix = f" ({k})"
        out, k = base[: 31 - len(suffix)] + suffix, k + 1
    return out


# ---------------------------------------------------------------------------------------------------------
# The whole report folder


@dataclass
class ReportResult:
    out: Path
    round: str
    compare_round: str | None
    table: pd.DataFrame
    appendix4: pd.DataFrame
    change: pd.DataFrame | None
    summary: dict
    files: list[str]
    seconds: float


def write_report(data: str | Path | pd.DataFrame, out: str | Path, codebook: Codebook,
                 defs: ReportDefinitions | None = None, round_: str | None = None, compare: str | None = None,
                 pending: str = "suggested", min_requests: int = 5, published: str | Path | None = None,
                 progress: Callable[[str, int, int], None] | None = None,
                 data_name: str | None = None) -> ReportResult:
    """Write the report folder: Appendix 3b, charts, Appendix 4, change, pro-formas and index.html.

    `data` is an accepted-codes table or coded returns file (or the frame `read_coded` returns). The round
    defaults to the latest in the data; `compare` names an earlier round in the same data. `published` is
    an optional published Appendix 3b (reference/appendix3b.csv) to set our figures beside. Re-running
    overwrites the same files (atomically); nothing is appended.
    """
    import time

    from coder.charts import line_chart
    from coder.files import write_text_atomic
    from coder.proforma import build_proformas, write_proforma_xlsx
    from coder.render import index_html, proforma_html

    t0 = time.perf_counter()
    report = progress or (lambda stage, done, total: None)
    defs = defs or load_report_definitions(codebook=codebook)
    data_name = data_name or (str(data) if not isinstance(data, pd.DataFrame) else "<data frame>")
    raw = data if isinstance(data, pd.DataFrame) else read_coded(data, codebook)
    df = prepare(raw, codebook, pending=pending, file=data_name)
    rounds = rounds_of(df)
    round_ = round_ or rounds[-1]
    for r, opt in ((round_, "--round"), (compare, "--compare")):
        if r is not None and r not in rounds:
            raise InputError(f"{opt}: round {r!r} is not in the data (rounds: {', '.join(rounds)})",
                             file=data_name)
    if compare == round_:
        raise InputError(f"--compare: round {compare!r} is the round being reported; name an earlier one")
    cur = df[df["round"] == round_]
    out = Path(out)
    (out / "charts").mkdir(parents=True, exist_ok=True)
    (out / "proforma").mkdir(parents=True, exist_ok=True)
    files: list[str] = []

    table = appendix3b(cur, defs)
    write_safe_csv(table, out / "appendix3b.csv")
    write_appendix3b_xlsx(table, out / "appendix3b.xlsx", title=f"Round {round_}")
    files += ["appendix3b.csv", "appendix3b.xlsx"]
    before = change = None
    if compare:
        before = appendix3b(df[df["round"] == compare], defs)
        change = compare_tables(before, table, compare, round_)
        write_safe_csv(change, out / "change.csv")
        files.append("change.csv")
    a4 = appendix4(cur, codebook, min_requests)
    write_safe_csv(a4, out / "appendix4.csv")
    files.append("appendix4.csv")
    cmp = None
    if published:
        cmp = compare_with_published(table, read_table(published))
        write_safe_csv(cmp, out / "published_comparison.csv")
        files.append("published_comparison.csv")

    lines = [ln for ln in defs.lines if (table["question"] == ln.question).any()]
    proformas = build_proformas(cur, codebook, defs)
    total = len(lines) + len(proformas) + 1
    charts: dict[str, bytes] = {}
    for i, ln in enumerate(lines):
        rows = table[table["line"] == ln.label]
        prev = before[before["line"] == ln.label].assign(round=compare) if before is not None else None
        charts[ln.key] = line_chart(rows, prev)
        with atomic_path(out / "charts" / f"{ln.key}.png") as tmp:
            tmp.write_bytes(charts[ln.key])
        report("charts", i + 1, total)
    for i, p in enumerate(proformas):
        write_text_atomic(out / "proforma" / f"{p.slug}.html", proforma_html(p))
        write_proforma_xlsx(p, out / "proforma" / f"{p.slug}.xlsx")
        report("pro-formas", len(lines) + i + 1, total)
    summary = pending_summary(cur)
    write_text_atomic(out / "index.html", index_html(
        round_=round_, compare_round=compare, table=table, charts=charts, a4=a4, min_requests=min_requests,
        change=change, proformas=proformas, summary=summary, pending_policy=pending, defs=defs,
        data_file=data_name, published=cmp, files=files))
    seconds = round(time.perf_counter() - t0, 2)
    write_json_atomic(out / "report.json", {
        "round": round_, "compare": compare, "data": data_name, "definitions": defs.path,
        "definitions_sha256": defs.sha256, "codebook_sha256": codebook.sha256, "pending_policy": pending,
        "summary": summary, "files": files + ["charts/", "proforma/", "index.html"], "seconds": seconds})
    report("done", total, total)
    return ReportResult(out, round_, compare, table, a4, change, summary, files, seconds)
