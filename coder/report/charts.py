"""Charts like the report's "Percentage of places with ...": regions as bars, the national figure marked.

Drawn with matplotlib's object API on the Agg canvas (no display, no global pyplot state), so charts can
be made from a CLI, a test or a notebook alike.
"""

from __future__ import annotations

import io
import textwrap

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from coder.report.tables import NATIONAL, half_up

MAIN = "#1f5f8b"
SECONDARY = "#9cc3de"
NATIONAL_COLOUR = "#c0392b"
BEFORE_COLOUR = "#333333"


def line_chart(rows: pd.DataFrame, before: pd.DataFrame | None = None, dpi: int = 100) -> bytes:
    """PNG bytes of one report line: a bar per region, its secondary figure stacked in a lighter colour,
    a dashed line at the national figure, and (with `before`) the earlier round's figure as a tick.

    `rows` are one line's rows of an `appendix3b` table (the National row and one per region).
    """
    nat = rows[rows["region"] == NATIONAL]
    reg = rows[rows["region"] != NATIONAL]
    title = str(rows["line"].iloc[0])
    title = "Percentage " + title[1:].strip() if title.startswith("%") else title
    fig = Figure(figsize=(8, 4.2), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    x = list(range(len(reg)))
    pct = reg["pct"].fillna(0).to_numpy()
    ax.bar(x, pct, color=MAIN, width=0.7, label=f"Region (Q{int(rows['question'].iloc[0])})")
    sec = reg["secondary_pct"]
    if sec.notna().any():
        text = str(reg["secondary"].iloc[0])
        sec_label = text.split("% ", 1)[1] if "% " in text else "secondary figure"
        ax.bar(x, sec.fillna(0).to_numpy(), bottom=pct, color=SECONDARY, width=0.7, label=sec_label)
    for xi, p in zip(x, pct, strict=True):
        ax.text(xi, p / 2 if p >= 12 else p + 1.5, f"{half_up(p)}%", ha="center",
                va="center" if p >= 12 else "bottom", color="white" if p >= 12 else "black", fontsize=8)
    if len(nat) and pd.notna(nat["pct"].iloc[0]):
        n = float(nat["pct"].iloc[0])
        ax.axhline(n, color=NATIONAL_COLOUR, linestyle="--", linewidth=1.5, label=f"National {half_up(n)}%")
    if before is not None and len(before):
        b = before.set_index("region")["pct"].reindex(reg["region"]).to_numpy()
        ax.scatter(x, b, marker="_", s=400, linewidths=2.5, color=BEFORE_COLOUR, zorder=3,
                   label=f"round {before['round'].iloc[0]}" if "round" in before.columns else "earlier round")
    ax.set_xticks(x)
    ax.set_xticklabels(["\n".join(textwrap.wrap(str(r), 10)) for r in reg["region"]], fontsize=8)
    ax.set_ylim(0, 105 if not sec.notna().any() else max(105, float((reg["pct"] + sec.fillna(0)).max()) + 5))
    ax.set_ylabel("% of localities")
    ax.set_title("\n".join(textwrap.wrap(title, 80)), fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=4, frameon=False)
    # Fixed margins instead of tight_layout: it draws the figure an extra time (half the cost of a chart).
    fig.subplots_adjust(left=0.08, right=0.98, top=0.86, bottom=0.25)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
