"""The per-locality pro-forma (Appendix 7): strengths and areas for development from the report lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from coder.codebook import Codebook
from coder.report.definitions import ReportDefinitions


@dataclass
class Proforma:
    round: str
    locality: str
    region: str
    answers: pd.DataFrame  # ref, question, answer, codes, code_labels, support, status
    strengths: list[str] = field(default_factory=list)
    developments: list[str] = field(default_factory=list)
    support: list[tuple[str, str, str]] = field(default_factory=list)  # (ref, question, support text)
    file_slug: str = ""  # set by build_proformas, unique within the report

    @property
    def slug(self) -> str:
        return self.file_slug or slugify(self.locality)

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
    out = sorted(out, key=lambda p: (p.region, p.locality))
    # "St. Helens" and "St Helens" share a slug: each locality still gets its own page
    taken: set[str] = set()
    for p in sorted(out, key=lambda p: (p.locality, p.region)):
        base = slug = slugify(p.locality)
        n = 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        p.file_slug = slug
    return out


def _ck(c: str) -> tuple[int, str]:
    return (int(c), "") if c.isdigit() else (10**9, c)
