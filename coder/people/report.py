"""The update round's report: discharged by June against the cohort (national and by region), a trajectory of
estimated discharges by month against the June 2014 milestone, reasons and care-package tables, plans signed
off by HWBs, and a page per area. Definitions come from codebook/report-2014.yaml; every untrusted string is
escaped; charts are embedded PNGs so the report reads from a file system without a server.
"""

from __future__ import annotations

import base64
import io
import re
from html import escape
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from coder.codebook import Codebook, project_file, read_yaml  # noqa: E402
from coder.errors import InputError  # noqa: E402
from coder.files import staged_dir, write_text_atomic  # noqa: E402
from coder.people.classify import check_areas, check_people  # noqa: E402
from coder.spreadsheet import write_safe_csv  # noqa: E402

NATIONAL = "National"
CSS = ("body{font-family:Arial,sans-serif;max-width:1200px;margin:0 auto;padding:0 16px 40px;color:#222}"
       "table{border-collapse:collapse;margin:.5em 0 1em;font-size:.85em}th,td{border:1px solid #ccc;padding:3px 6px;"
       "vertical-align:top}th{background:#eef3f7;text-align:left}td.num{text-align:right}"
       "h2{border-bottom:2px solid #1f5f8b}.note{color:#555;font-size:.9em}img{max-width:100%;border:1px solid #ddd}")


def load_definitions(path: str | Path | None = None) -> dict:
    """The report definitions; every error names the file and the key."""
    path = Path(path) if path else project_file("report-2014.yaml")
    data, _ = read_yaml(path, "report definitions")
    if not isinstance(data, dict):
        raise InputError("report definitions are a mapping", file=str(path))
    for key in ("cohort", "lines", "tables", "plans", "milestone"):
        if key not in data:
            raise InputError(f"{key}: missing", file=str(path))
    if not re.fullmatch(r"\d{4}-\d{2}", str(data["milestone"])):
        raise InputError(f"milestone: {data['milestone']!r} is not a month (YYYY-MM)", file=str(path))
    return data


def _codes(cell: object) -> set[str]:
    return {c for c in str(cell).split(";") if c}


def _in(series: pd.Series, codes: list) -> pd.Series:
    want = {str(c) for c in codes}
    return series.astype(str).map(lambda v: bool(_codes(v) & want))


def _groups(df: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    return [(NATIONAL, df)] + [(str(r), g) for r, g in df.groupby("region", sort=True)]


def discharge_table(people: pd.DataFrame, defs: dict, areas: pd.DataFrame) -> pd.DataFrame:
    """Per region and nationally: areas, the cohort, and each line's count and % of the cohort."""
    rows = []
    cohort_codes = defs["cohort"]["status"]
    n_areas = dict(_groups(areas))
    for name, g in _groups(people):
        cohort = int(_in(g["status"], cohort_codes).sum())
        row = {"region": name, "areas": len(n_areas.get(name, [])), "cohort": cohort}
        for line in defs["lines"]:
            n = int(_in(g["status"], line["status"]).sum())
            row[line["label"]] = n
            row[f"{line['label']} %"] = round(100 * n / cohort, 1) if cohort else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def code_table(people: pd.DataFrame, codebook: Codebook, table: dict) -> pd.DataFrame:
    """Counts and % of each code of `table.question` among people whose status is in `table.among`."""
    q = codebook.question(int(table["question"]))
    col = {6: "care_package", 7: "reasons"}.get(q.id)
    if col is None:
        raise InputError(f"tables: question {q.id} is not a person-level code question of {codebook.name}")
    base = people[_in(people["status"], table["among"])]
    rows = []
    for c in (*q.codes, None):
        code, label = (c.code, c.label) if c else (codebook.blank_code, "Not stated")
        row = {"code": code, "label": label}
        for name, g in _groups(base):
            n = int(_in(g[col], [code]).sum())
            row[f"{name} n"] = n
            row[f"{name} %"] = round(100 * n / len(g), 1) if len(g) else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def plan_table(areas: pd.DataFrame, codebook: Codebook, defs: dict) -> pd.DataFrame:
    q = codebook.question(int(defs["plans"]["question"]))
    rows = []
    for name, g in _groups(areas):
        row = {"region": name, "areas": len(g)}
        signed = int(_in(g["plan_status"], defs["plans"]["count"]).sum())
        row["signed off by HWB"] = signed
        row["signed off %"] = round(100 * signed / len(g), 1) if len(g) else float("nan")
        for c in q.codes:
            if c.code not in {str(x) for x in defs["plans"]["count"]}:
                row[c.label] = int(_in(g["plan_status"], [c.code]).sum())
        row["not stated"] = int((g["plan_status"].astype(str) == codebook.blank_code).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def trajectory(people: pd.DataFrame) -> pd.DataFrame:
    """Discharges by month (est_discharge): people already discharged and planned, and the running total."""
    dated = people[people["est_discharge"].astype(str).str.fullmatch(r"\d{4}-\d{2}")]
    t = dated.assign(kind=dated["status"].map(lambda s: "discharged" if s == "1" else "planned")).groupby(
        ["est_discharge", "kind"]).size().unstack(fill_value=0)
    for k in ("discharged", "planned"):
        if k not in t.columns:
            t[k] = 0
    t = t[["discharged", "planned"]].sort_index()
    t["cumulative"] = (t["discharged"] + t["planned"]).cumsum()
    return t.reset_index().rename(columns={"est_discharge": "month"})


def trajectory_chart(t: pd.DataFrame, milestone: str, cohort: int, undated: int) -> bytes:
    fig = Figure(figsize=(9, 4.2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    x = list(range(len(t)))
    ax.bar(x, t["discharged"], color="#1f5f8b", label="discharged (month left)")
    ax.bar(x, t["planned"], bottom=t["discharged"], color="#9cc3de", label="estimated discharge")
    ax2 = ax.twinx()
    ax2.plot(x, t["cumulative"], color="#333333", marker=".", label="cumulative")
    ax2.axhline(cohort, color="#777777", linestyle=":", label=f"cohort listed ({cohort})")
    months = t["month"].tolist()
    pos = sum(m <= milestone for m in months) - 0.5
    ax.axvline(pos, color="#c0392b", linestyle="--", label=f"June 2014 milestone ({milestone})")
    ax.set_xticks(x)
    ax.set_xticklabels(months, rotation=60, fontsize=7)
    ax.set_ylabel("people per month")
    ax2.set_ylabel("cumulative")
    ax.set_title(f"Discharges by month against the June 2014 milestone ({undated} listed without a date)",
                 fontsize=10)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper left", frameon=False)
    fig.subplots_adjust(left=0.07, right=0.93, top=0.9, bottom=0.2)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _html_table(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in df.columns)
    body = []
    for r in df.itertuples(index=False):
        cells = []
        for v in r:
            num = isinstance(v, (int, float)) and not isinstance(v, bool)
            text = "" if (isinstance(v, float) and pd.isna(v)) else str(v)
            cells.append(f"<td class=\"num\">{escape(text)}</td>" if num else f"<td>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<style>{CSS}</style></head><body>\n{body}\n</body></html>\n")


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-") or "area"


def write_people_report(people: pd.DataFrame, areas: pd.DataFrame, out: str | Path, codebook: Codebook,
                        definitions: str | Path | None = None, files: tuple[str, str] = ("<people>", "<areas>")
                        ) -> Path:
    """Write index.html, a page per area, the tables as CSV and the chart; returns the report folder."""
    defs = load_definitions(definitions)
    check_people(people, codebook, files[0])
    check_areas(areas, files[1])
    out = Path(out)
    dis = discharge_table(people, defs, areas)
    tables = {t["name"]: (t, code_table(people, codebook, t)) for t in defs["tables"]}
    plans = plan_table(areas, codebook, defs)
    traj = trajectory(people)
    undated = int((~people["est_discharge"].astype(str).str.fullmatch(r"\d{4}-\d{2}")).sum())
    png = trajectory_chart(traj, str(defs["milestone"]), len(people), undated) if len(traj) else b""
    target = out
    if target.is_dir() and any(target.iterdir()) and not (target / "index.html").exists():
        raise InputError("--out is a folder with other files in it, not a report coder wrote: choose a new or "
                         "empty folder (the report folder is replaced whole)", file=str(target))
    # built beside the target and swapped in whole: a failure or an interrupt leaves the previous report
    with staged_dir(target) as stage:
        _write_pages(stage, people, areas, codebook, defs, dis, tables, plans, traj, png)
    return target


def _write_pages(out: Path, people: pd.DataFrame, areas: pd.DataFrame, codebook: Codebook, defs: dict,
                 dis: pd.DataFrame, tables: dict, plans: pd.DataFrame, traj: pd.DataFrame, png: bytes) -> None:
    """index.html, the tables and a page per area, into `out`."""
    for name, df in [("discharged-by-june", dis), ("plans", plans), ("trajectory", traj)] + [
            (n, d) for n, (_, d) in tables.items()]:
        write_safe_csv(df, out / "tables" / f"{name}.csv")
    pending = int((people.get("source", pd.Series(dtype=str)) == "pending").sum())
    body = [f"<h1>Winterbourne View JIP update, round {escape(str(defs.get('round', '')))}: person by person</h1>",
            f"<p class=\"note\">{len(people)} people listed by {areas['locality'].nunique()} areas."
            + (f" <b>Provisional:</b> {pending} person record(s) still wait for review and show the model's codes."
               if pending else "") + "</p>",
            "<h2>Discharged by June 2014 against the cohort</h2>", _html_table(dis)]
    if png:
        body += ["<h2>Trajectory of discharges against the June 2014 milestone</h2>",
                 f"<img alt=\"trajectory\" src=\"data:image/png;base64,{base64.b64encode(png).decode()}\">"]
    for t, df in tables.values():
        body += [f"<h2>{escape(t['title'])}</h2>", f"<p class=\"note\">% of {escape(t['denominator'])}.</p>",
                 _html_table(df)]
    body += [f"<h2>{escape(defs['plans']['label'])}</h2>", _html_table(plans), "<h2>Areas</h2><ul>"]
    for loc in sorted(areas["locality"]):
        body.append(f"<li><a href=\"areas/{slug(loc)}.html\">{escape(loc)}</a></li>")
    body.append("</ul>")
    write_text_atomic(out / "index.html", _page("Update round report", "\n".join(body)))
    for a in areas.itertuples(index=False):
        mine = people[people["locality"] == a.locality]
        cols = [c for c in ("person", "status", "care_package", "reasons", "est_discharge", "route", "source",
                            "evidence") if c in mine.columns]
        counts = pd.DataFrame([{"count": "discharged", "text says": a.discharged_count, "listed": a.listed_discharged},
                               {"count": "in hospital", "text says": a.in_hospital_count,
                                "listed": a.listed_in_hospital},
                               {"count": "not by June", "text says": a.not_by_june_count,
                                "listed": a.listed_not_by_june}])
        page = [f"<p><a href=\"../index.html\">report</a></p><h1>{escape(a.locality)} ({escape(a.region)})</h1>",
                f"<p>Local area plan: {escape(_plan_label(codebook, a.plan_status))}</p>",
                "<h2>Counts</h2>", _html_table(counts)]
        if str(a.counts_consistent) == "no":
            page.append(f"<p class=\"note\"><b>Counts disagree with the people listed:</b> {escape(a.review_why)}</p>")
        page += ["<h2>People</h2>", _html_table(mine[cols])]
        write_text_atomic(out / "areas" / f"{slug(a.locality)}.html", _page(a.locality, "\n".join(page)))


def _plan_label(codebook: Codebook, code: object) -> str:
    try:
        return f"{code} - {codebook.question(4).label(str(code))}"
    except KeyError:
        return str(code)
