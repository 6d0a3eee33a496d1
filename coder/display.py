"""Rich tables for metrics and summaries, shared by the command line and the demo."""

from __future__ import annotations

from rich.table import Table


def metrics_table(title: str, m: dict) -> Table:
    t = Table(title=title)
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_row("answers scored (non-blank)", f"{m['n']:,}")
    t.add_row("accuracy", f"{m['accuracy']:.3f}")
    t.add_row("macro-F1", f"{m['macro_f1']:.3f}")
    t.add_row("auto-coded share", f"{m['auto_share']:.1%}")
    t.add_row("precision of auto-coded", f"{m['auto_precision']:.3f}")
    t.add_row("expected calibration error", f"{m['ece']:.3f}")
    t.add_row("weakest questions", ", ".join(f"Q{w['qid']} {w['accuracy']:.2f}" for w in m["weakest_questions"]))
    return t


def frame_table(df, title: str) -> Table:
    """Render a small data frame as a rich table (shares as percentages, floats to 3 places)."""
    t = Table(title=title)
    for c in df.columns:
        t.add_column(str(c), justify="left" if df[c].dtype == object else "right")
    for row in df.itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, row, strict=True):
            if isinstance(v, float):
                cells.append(f"{v:.0%}" if "share" in str(c) else f"{v:.3f}")
            elif isinstance(v, int):
                cells.append(f"{v:,}")
            else:
                cells.append(str(v))
        t.add_row(*cells)
    return t
