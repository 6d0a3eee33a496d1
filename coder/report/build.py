"""The whole report folder, written in one call: tables, workbooks, charts, pro-formas and index.html.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from coder.codebook import Codebook
from coder.errors import InputError
from coder.files import atomic_path, write_json_atomic
from coder.report.basis import with_basis
from coder.report.definitions import ReportDefinitions, load_report_definitions
from coder.report.proforma import build_proformas
from coder.report.tables import (
    appendix3b,
    appendix4,
    compare_tables,
    compare_with_published,
    pending_summary,
    prepare,
    read_coded,
    read_published,
    rounds_of,
)
from coder.report.xlsx import write_appendix3b_xlsx, write_proforma_xlsx
from coder.spreadsheet import write_safe_csv


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

    from coder.files import staged_dir

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
    published = read_published(published) if published is not None else None
    target = Path(out)
    if target.is_dir() and any(target.iterdir()) and not (target / "report.json").exists():
        raise InputError("--out is a folder with other files in it, not a report coder wrote: choose a new or "
                         "empty folder (the report folder is replaced whole)", file=str(target))
    # built beside the target and swapped in whole: a failure or an interrupt leaves the previous report
    with staged_dir(target) as out:
        result = _write_folder(out, cur, df, codebook, defs, round_, compare, pending, min_requests, published,
                               report, data_name)
    seconds = round(time.perf_counter() - t0, 2)
    report("done", 1, 1)
    return ReportResult(target, round_, compare, *result, seconds)


def _write_folder(out: Path, cur: pd.DataFrame, df: pd.DataFrame, codebook: Codebook, defs: ReportDefinitions,
                  round_: str, compare: str | None, pending: str, min_requests: int, published, report,
                  data_name: str) -> tuple:
    import time

    from coder.files import write_text_atomic
    from coder.report.charts import line_chart
    from coder.report.html import index_html, proforma_html

    t0 = time.perf_counter()
    (out / "charts").mkdir(parents=True, exist_ok=True)
    (out / "proforma").mkdir(parents=True, exist_ok=True)
    files: list[str] = []

    table = with_basis(appendix3b(cur, defs), cur, pending)  # what each figure rests on (coder.report.basis)
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
    if published is not None:
        cmp = compare_with_published(table, published)
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
    return table, a4, change, summary, files
