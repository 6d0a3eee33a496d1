"""The Appendix 7 pro-forma for each locality: answers and codes, key strengths, areas for development.

Strengths are the report lines where the locality's answer is counted (coded positively); areas for
development are the lines where it is not (No, in process, not clear, no response) and the questions on
which it asked for support. As in 2013 there is no scoring or grading: it is a summary of what was said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from coder.codebook import Codebook
from coder.report import ReportDefinitions, _sheet_name, safe_cell


@dataclass
class Proforma:
    round: str
    locality: str
    region: str
    answers: pd.DataFrame  # ref, question, answer, codes, code_labels, support, status
    strengths: list[str] = field(default_factory=list)
    developments: list[str] = field(default_factory=list)
    support: list[tuple[str, str, str]] = field(default_factory=list)  # (ref, question, support text)

    @property
    def slug(self) -> str:
        return slugify(self.locality)

    @property
    def pending(self) -> int:
        return int((self.answers["status"] != "coded").sum())


def slugify(name: str) -> str:
    """A file name for a locality: lower case ASCII letters, digits and hyphens."""
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return s or "locality"


def code_labels(codebook: Codebook, qid: int, codes: frozenset[str] | tuple[str, ...]) -> str:
    q = codebook.question(qid)
    out = []
    for c in sorted(codes, key=lambda c: (not c.isdigit(), int(c) if c.isdigit() else 0, c)):
        if c == codebook.blank_code:
            out.append("No response")
        else:
            try:
                out.append(q.label(c))
            except KeyError:
                out.append(c)
    return "; ".join(out)


def build_proformas(df: pd.DataFrame, codebook: Codebook, defs: ReportDefinitions) -> list[Proforma]:
    """One pro-forma per locality of a single round of prepared returns (see `coder.report.prepare`)."""
    if df["round"].nunique() > 1:
        raise ValueError("build_proformas takes one round; filter the frame first")
    lines_by_q: dict[int, list] = {}
    for ln in defs.lines:
        lines_by_q.setdefault(ln.question, []).append(ln)
    out = []
    for (locality, region), g in df.sort_values(["region", "locality", "qid"]).groupby(
            ["locality", "region"], sort=False):
        g = g.sort_values("qid")
        answers = pd.DataFrame({
            "qid": g["qid"].astype(int).to_numpy(),
            "ref": g["ref"].to_numpy(),
            "question": [codebook.question(q).text for q in g["qid"]],
            "answer": g["text"].to_numpy(),
            "codes": [";".join(sorted(s, key=_ck)) for s in g["report_codes"]],
            "code_labels": [code_labels(codebook, q, s)
                            for q, s in zip(g["qid"], g["report_codes"], strict=True)],
            "support": g["support"].fillna("").to_numpy(),
            "status": g["status"].to_numpy(),
        })
        p = Proforma(str(g["round"].iloc[0]), str(locality), str(region), answers)
        for r in answers.itertuples():
            codes = frozenset(r.codes.split(";")) if r.codes else frozenset()
            for ln in lines_by_q.get(r.qid, []):
                counted = not frozenset(ln.count).isdisjoint(codes)
                what = r.code_labels or "not coded yet"
                flag = " (provisional)" if r.status != "coded" else ""
                text = f"{r.ref} {ln.short}: {what}{flag}"
                if counted == ln.positive:
                    p.strengths.append(text)
                else:
                    p.developments.append(text)
            if str(r.support).strip():
                p.support.append((r.ref, r.question, str(r.support).strip()))
        out.append(p)
    return sorted(out, key=lambda p: (p.region, p.locality))


def _ck(c: str) -> tuple[int, str]:
    return (int(c), "") if c.isdigit() else (10**9, c)


def write_proforma_xlsx(p: Proforma, path: str | Path) -> None:
    """The locality's spreadsheet: its answers and codes; strengths and developments; support asked for."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from coder.files import atomic_path

    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_name("Analysis", [])
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
