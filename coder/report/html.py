"""HTML for the report: one self-contained index.html and a page per locality, every untrusted string escaped.

Answer text, locality and region names come from returns files: they are escaped with `html.escape`
everywhere (an answer reading `<script>` shows as text). Charts are embedded as base64 PNGs so the page
reads from a file system or an e-mail attachment, without a server.
"""

from __future__ import annotations

import base64
import datetime as _dt
import re
from html import escape

import pandas as pd

from coder.report.definitions import ReportDefinitions
from coder.report.proforma import Proforma
from coder.report.tables import NATIONAL, half_up

CSS = """
body{font-family:Arial,Helvetica,sans-serif;margin:0 auto;max-width:1400px;padding:0 16px 40px;color:#222}
h1{font-size:1.6em;margin-top:.6em} h2{border-bottom:2px solid #1f5f8b;padding-bottom:4px;margin-top:1.6em}
h3{margin-top:1.2em;color:#1f5f8b}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.85em} th,td{border:1px solid #ccc;padding:3px 6px;
vertical-align:top} th{background:#eef3f7;text-align:left} td.num{text-align:right;white-space:nowrap}
.sec{display:block;color:#555;font-size:.8em} .pend{color:#a15c00}
.banner{padding:10px 14px;margin:12px 0;border-radius:4px;font-weight:bold}
.provisional{background:#fff3cd;border:2px solid #e0a800;color:#6b4e00}
.final{background:#e3f4e3;border:1px solid #5aa55a;color:#245c24}
.charts{display:flex;flex-wrap:wrap;gap:8px} .charts figure{margin:0;width:590px}
.charts img{width:100%;border:1px solid #ddd}
.up{color:#1b7a1b} .down{color:#b02a2a} .note{color:#555;font-size:.9em}
.two{display:grid;grid-template-columns:1fr 1fr;gap:16px} .two ul{margin-top:.3em}
td.answer{max-width:520px;white-space:pre-wrap} td.line{min-width:300px}
.basis{display:block;color:#777;font-size:.72em} td.flag{background:#fde8e8} .flag .err{color:#b02a2a;font-weight:bold}
"""


def e(value: object) -> str:
    """Escape any value for HTML text or attribute context."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return escape(str(value), quote=True)


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{e(title)}</title><style>{CSS}</style></head>\n<body>\n{body}\n</body></html>\n")


def _pct(x: object) -> str:
    return "" if x is None or pd.isna(x) else f"{half_up(float(x))}%"


def banner(summary: dict, pending_policy: str) -> str:
    if summary["provisional"]:
        how = ("counted provisionally with the model's suggested code" if pending_policy == "suggested"
               else "counted under no line (as if unanswered) until reviewed")
        parts = []
        if summary["pending"]:
            parts.append(f"{summary['pending']} answer(s) still awaiting review")
        if summary["uncoded"]:
            parts.append(f"{summary['uncoded']} answer(s) not coded at all (counted under no line)")
        where = f"{summary['localities_with_pending']} of {summary['localities']} localities"
        return (f"<div class=\"banner provisional\" id=\"provisional\">PROVISIONAL: {e('; '.join(parts))}, "
                f"in {where}. Pending answers are {e(how)}. Figures will change as review finishes.</div>")
    return "<div class=\"banner final\">All answers of this round are coded: figures are final.</div>"


def counts_table(summary: dict) -> str:
    rows = "".join(f"<tr><td>{e(k)}</td><td class=num>{v}</td></tr>" for k, v in summary["by_source"].items())
    s = summary
    return (f"<p>{s['localities']} localities in {s['regions']} regions, {s['answers']} answers: "
            f"{s['coded']} coded, {s['pending']} pending review, {s['uncoded']} uncoded.</p>"
            f"<table><tr><th>Source of the code</th><th>Answers</th></tr>{rows}</table>")


def _secondary_label(lg: pd.DataFrame) -> str:
    """The secondary figure's words, said once per line: '29% report arrangements in process' -> the words."""
    texts = [t for t in lg["secondary"] if t]
    if not texts:
        return ""
    words = " and ".join(re.sub(r"^\d+% ", "", part) for part in texts[0].split(" and "))
    return f"<span class=sec>second figure: {e(words)}</span>"


def theme_tables(table: pd.DataFrame) -> str:
    """Appendix 3b as one table per theme: lines down, National and regions across, secondary under each."""
    regions = list(table["region"].drop_duplicates())
    out = []
    for theme, g in table.groupby("theme", sort=False):
        head = "".join(f"<th>{e(r)}</th>" for r in regions)
        body = []
        for (q, line), lg in g.groupby(["question", "line"], sort=False):
            cells = []
            by = lg.set_index("region")
            for r in regions:
                if r not in by.index:
                    cells.append("<td></td>")
                    continue
                row = by.loc[r]
                figs = " / ".join(re.findall(r"\d+%", str(row["secondary"])))
                sec = f"<span class=sec>{e(figs)}</span>" if figs else ""
                pend = f"<span class='sec pend'>{int(row['pending'])} pending</span>" if row["pending"] else \
                    ""
                title = f"n={int(row['n'])}" + (f"; {row['secondary']}" if row["secondary"] else "")
                basis, cls = _basis(row)
                title += f"; {basis[1]}" if basis else ""
                cells.append(f"<td class=\"{cls}\" title=\"{e(title)}\"><b>{_pct(row['pct'])}</b>{sec}{pend}"
                             f"{basis[0] if basis else ''}</td>")
            body.append(f"<tr><td>{int(q)}</td><td class=line>{e(line)}{_secondary_label(lg)}</td>"
                        f"{''.join(cells)}</tr>")
        out.append(f"<h3>{e(theme)}</h3><table><tr><th>Q</th><th>Line</th>{head}</tr>{''.join(body)}</table>")
    return "\n".join(out)


def _basis(row: pd.Series) -> tuple[tuple[str, str] | None, str]:
    """The figure's basis under it (answers coded by a person / a rule / the model) and, where the machine
    codes could move it by more than 2 points, the expected error flagged (coder.report.basis)."""
    if "machine" not in row.index or pd.isna(row["machine"]):
        return None, "num"
    h, r, m, err = int(row["human"]), int(row["rule"]), int(row["machine"]), float(row["machine_error"])
    flag = bool(row["flag"])
    html = (f"<span class=basis>H{h} R{r} M{m}" + (f" <span class=err>±{err:.1f}</span>" if flag else "")
            + "</span>")
    words = (f"{h} human-, {r} rule- and {m} machine-coded answers; the machine codes could move this "
             f"figure by {err:.1f} points (expected)")
    return (html, words), "num flag" if flag else "num"


def charts_html(charts: dict[str, bytes], table: pd.DataFrame, defs: ReportDefinitions) -> str:
    out = []
    for theme in defs.themes:
        figs = []
        for ln in theme.lines:
            png = charts.get(ln.key)
            if png is None:
                continue
            b64 = base64.b64encode(png).decode("ascii")
            figs.append(f"<figure id=\"chart-{e(ln.key)}\"><img alt=\"{e(ln.label)}\" "
                        f"src=\"data:image/png;base64,{b64}\"></figure>")
        if figs:
            out.append(f"<h3>{e(theme.name)}</h3><div class=charts>{''.join(figs)}</div>")
    return "\n".join(out)


def change_tables(change: pd.DataFrame) -> str:
    regions = list(change["region"].drop_duplicates())
    out = []
    for theme, g in change.groupby("theme", sort=False):
        head = "".join(f"<th>{e(r)}</th>" for r in regions)
        body = []
        for (q, line), lg in g.groupby(["question", "line"], sort=False):
            by = lg.set_index("region")
            cells = []
            for r in regions:
                if r not in by.index or pd.isna(by.loc[r, "change_points"]):
                    cells.append("<td></td>")
                    continue
                d = float(by.loc[r, "change_points"])
                cls = "up" if d > 0 else "down" if d < 0 else ""
                title = f"{_pct(by.loc[r, 'pct_before'])} to {_pct(by.loc[r, 'pct_after'])}"
                cells.append(f"<td class=\"num {cls}\" title=\"{e(title)}\">{d:+.1f}</td>")
            body.append(f"<tr><td>{int(q)}</td><td>{e(line)}</td>{''.join(cells)}</tr>")
        out.append(f"<h3>{e(theme)}</h3><table><tr><th>Q</th><th>Line</th>{head}</tr>{''.join(body)}</table>")
    return "\n".join(out)


def appendix4_table(a4: pd.DataFrame, min_requests: int) -> str:
    if a4.empty:
        return f"<p>No question has {min_requests} or more requests for support.</p>"
    rows = "".join(f"<tr><td>{int(r.question)}</td><td>{e(r.ref)} {e(r.text)}</td>"
                   f"<td class=num>{int(r.requests)}</td></tr>" for r in a4.itertuples())
    return (f"<p>Dimensions of the stocktake where there have been {min_requests} or more requests for "
            f"support (localities with a support request on the question).</p><table><tr><th>Q No.</th>"
            f"<th>Detail of question</th><th>Requests for support</th></tr>{rows}</table>")


def published_section(cmp: pd.DataFrame) -> str:
    """Our figures against the published Appendix 3b: national row and regional rows separately."""
    nat = cmp[cmp["region"] == NATIONAL]
    reg = cmp[cmp["region"] != NATIONAL]
    if nat.empty and reg.empty:
        return ""
    worst = reg.assign(abs=reg["difference"].abs()).groupby(["question", "line"], sort=False)["abs"].max()
    rows = []
    for r in nat.itertuples():
        w = worst.get((r.question, r.line), float("nan"))
        rows.append(f"<tr><td>{int(r.question)}</td><td>{e(r.line)}</td><td class=num>{r.pct:.1f}</td>"
                    f"<td class=num>{e(r.published_pct)}</td><td class=num>{r.difference:+.1f}</td>"
                    f"<td class=num>{w:.1f}</td></tr>")
    within = int((reg["difference"].abs() <= 1).sum())
    return (f"<h3>Compared with the published Appendix 3b</h3><p>{within} of {len(reg)} regional figures are "
            f"within 1 point of the published ones. National figures:</p><table><tr><th>Q</th><th>Line</th>"
            f"<th>Ours</th><th>Published</th><th>Difference (points)</th>"
            f"<th>Largest regional difference</th></tr>"
            f"{''.join(rows)}</table>")


NATIONAL_NOTE = """
<p>The <b>National</b> figure is computed over every locality in the round, each counted once: it is the
share of all localities, not the average of the regional percentages (which would weigh a region of 10
localities like one of 33 and differ by several points). The published national row of Appendix 3b
(September 2013) does not come exactly from the published regional tables either: the report describes
returns from 152 localities, while its regional percentages imply 147, so the published national row was
counted over a slightly different set of returns. On the hand-coded 2013-06 returns our national figures
are within about a point of the published row on every line (e.g. 59.9% against a published 61% for
information sharing with providers) except Q2 (joint planning with specialist commissioners: 47.6% against
45%), whose published figures use another denominator that the report does not state (its regional Q2
figures differ by up to 3 points too). Run with <code>--published</code> to set any round beside the
published table.</p>
"""


def index_html(*, round_: str, compare_round: str | None, table: pd.DataFrame, charts: dict[str, bytes],
               a4: pd.DataFrame, min_requests: int, change: pd.DataFrame | None, proformas: list[Proforma],
               summary: dict, pending_policy: str, defs: ReportDefinitions, data_file: str,
               published: pd.DataFrame | None = None, files: list[str] | None = None) -> str:
    """The report page tying tables, charts, Appendix 4, change and pro-forma links together."""
    nav = ["<a href=\"#a3b\">Appendix 3b tables</a>", "<a href=\"#charts\">Charts</a>",
           "<a href=\"#a4\">Appendix 4: support</a>", "<a href=\"#proforma\">Pro-formas</a>",
           "<a href=\"#method\">Method</a>"]
    if change is not None:
        nav.insert(2, "<a href=\"#change\">Change between rounds</a>")
    parts = [f"<h1>Stocktake report: round {e(round_)}</h1>", banner(summary, pending_policy),
             f"<p class=note>From {e(data_file)}; definitions {e(defs.path)} "
             f"(sha256 {e(defs.sha256[:12])}); made "
             f"{e(_dt.datetime.now().strftime('%Y-%m-%d %H:%M'))}.</p>",
             counts_table(summary), "<p>" + " | ".join(nav) + "</p>",
             "<h2 id=\"a3b\">Appendix 3b: national and regional summary</h2>",
             "<p class=note>Each figure is the percentage of localities in the group whose answer carries "
             "the line's codes; the smaller figure under it is the line's second figure. Under each figure: "
             "how many of its answers were coded by a person (H), a rule (R: blank is NR) and the model (M); "
             "a red cell and ±x mark a figure the machine codes could move by more than 2 points (expected "
             "error from their calibrated confidences): review those answers before publishing. Hover a "
             "cell for its denominator.</p>",
             theme_tables(table),
             "<h2 id=\"charts\">Charts</h2><p class=note>Bars: regions; lighter stack: the secondary figure; "
             "dashed line: national figure"
             + ("; black tick: the earlier round." if change is not None else ".") + "</p>",
             charts_html(charts, table, defs)]
    if change is not None:
        parts += [f"<h2 id=\"change\">Change between rounds {e(compare_round)} and {e(round_)}</h2>",
                  "<p class=note>Percentage points, later minus earlier; hover for both figures.</p>",
                  change_tables(change)]
    parts += ["<h2 id=\"a4\">Appendix 4: summary of support requested</h2>",
              appendix4_table(a4, min_requests)]
    items = []
    for region in dict.fromkeys(p.region for p in proformas):
        links = ", ".join(
            f"<a href=\"proforma/{e(p.slug)}.html\">{e(p.locality)}</a>"
            + (f" <span class=pend>({p.pending} pending)</span>" if p.pending else "")
            for p in proformas if p.region == region)
        items.append(f"<li><b>{e(region)}</b>: {links}</li>")
    parts += ["<h2 id=\"proforma\">Appendix 7: pro-forma for each locality</h2>",
              "<p class=note>One page and one spreadsheet per locality in <code>proforma/</code>.</p>",
              f"<ul>{''.join(items)}</ul>"]
    assumed = [f"<li>Q{ln.question} {e(ln.label)}: counts codes {e(', '.join(ln.count))}</li>"
               for ln in defs.lines if ln.assumed]
    if pending_policy == "suggested":
        pend_text = ("Answers still waiting for review (accepted-codes rows with source "
                     "<code>pending</code>) are counted with the model's <code>suggested</code> code, so the "
                     "figures are provisional; run with <code>--pending exclude</code> to count them under "
                     "no line instead.")
    else:
        pend_text = ("Answers still waiting for review are counted under no line (they stay in the "
                     "denominator, like a blank answer), so the figures are provisional lower bounds.")
    parts += ["<h2 id=\"method\">Method</h2>",
              f"<p>Denominator: {e(defs.denominator or 'all localities in the group')}. {pend_text} "
              f"Answers with no code and no suggestion count under no line.</p>", NATIONAL_NOTE]
    if assumed:
        parts.append("<p>Lines where the 2013 report does not say which codes it counted (our reading):</p>"
                     f"<ul>{''.join(assumed)}</ul>")
    if published is not None and not published.empty:
        parts.append(published_section(published))
    if files:
        parts.append("<h3>Files</h3><ul>" + "".join(f"<li><a href=\"{e(f)}\">{e(f)}</a></li>" for f in files)
                     + "</ul>")
    return _page(f"Stocktake report {round_}", "\n".join(parts))


def proforma_html(p: Proforma) -> str:
    """Appendix 7 for one locality: strengths beside developments, support requested, then every answer."""
    prov = (f"<div class=\"banner provisional\">PROVISIONAL: {p.pending} answer(s) still await review; "
            "their codes are the model's suggestions.</div>") if p.pending else ""
    strengths = "".join(f"<li>{e(s)}</li>" for s in p.strengths) or "<li>None recorded</li>"
    devs = "".join(f"<li>{e(s)}</li>" for s in p.developments) or "<li>None recorded</li>"
    support = "".join(f"<li><b>{e(ref)}</b> {e(q)}<br><i>{e(s)}</i></li>" for ref, q, s in p.support)
    rows = "".join(
        f"<tr><td>{e(r.ref)}</td><td>{e(r.question)}</td><td class=answer>{e(r.answer)}</td>"
        f"<td>{e(r.codes)}</td>"
        f"<td>{e(r.code_labels)}{' <span class=pend>(pending)</span>' if r.status != 'coded' else ''}</td>"
        f"<td>{e(r.support)}</td></tr>" for r in p.answers.itertuples())
    body = (f"<p><a href=\"../index.html\">&larr; report</a></p>"
            f"<h1>Stocktake of progress: local analysis</h1>"
            f"<h2>{e(p.locality)} ({e(p.region)}), round {e(p.round)}</h2>{prov}"
            f"<p>Key strengths are the report lines where your answer was coded positively; areas for "
            f"development are the lines where it was coded No, in process, not clear or left blank, and the "
            f"questions on which you asked for support. There is no scoring or grading.</p>"
            f"<div class=two><div><h3>Key strengths</h3><ul>{strengths}</ul></div>"
            f"<div><h3>Areas for development / potential development</h3><ul>{devs}</ul></div></div>"
            f"<h3>Dimensions of the stocktake about which you have requested support</h3>"
            f"<ul>{support or '<li>None</li>'}</ul>"
            f"<h3>Your responses and their coding</h3><table><tr><th>Ref</th><th>Question</th>"
            f"<th>Your response</th>"
            f"<th>Code</th><th>Coding</th><th>Support requested</th></tr>{rows}</table>"
            f"<p class=note><a href=\"{e(p.slug)}.xlsx\">Spreadsheet version</a></p>")
    return _page(f"{p.locality}: stocktake analysis", body)
