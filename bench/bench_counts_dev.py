"""Exact accuracy of the area counts (`coder.people.counts.extract_counts`) on the counts development set.

bench/update-counts-dev/ holds short hand-written area narratives in count phrasings the bundled corpus and
bench/update-styles lack (see its README). It is a DEVELOPMENT set: the count rules are tuned on it, so its
figure is not an evaluation. Alongside it this prints the counts on the bundled `train` split (also tuned on) and
the overall figure on bench/update-styles (never tuned on: no per-area output, so its misses stay unseen). The
held-out bundled `test` split is scored only by bench/bench_update.py. Usage:

    PYTHONPATH=$PWD python bench/bench_counts_dev.py [--misses]

`--misses` lists the development-set texts whose counts are wrong (the development set only).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coder.people.counts import COUNT_FIELDS, extract_counts  # noqa: E402

DEV = ROOT / "bench" / "update-counts-dev"
DATA = ROOT / "coder" / "data"
STYLES = ROOT / "bench" / "update-styles"


def _cell(v: object) -> str:
    s = "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v).strip()
    return str(int(float(s))) if s else ""


def exact(texts: pd.Series, gold: pd.DataFrame) -> tuple[dict[str, float], list[tuple[str, str, str, str]]]:
    """Per-field exact accuracy of the counts read from `texts` (indexed like `gold`), and the misses."""
    hits = dict.fromkeys(COUNT_FIELDS, 0)
    misses = []
    for key, row in gold.iterrows():
        got = extract_counts(texts.loc[key])
        for f in COUNT_FIELDS:
            want, have = _cell(row[f]), _cell(got[f])
            hits[f] += want == have
            if want != have:
                misses.append((str(key), f, want, have))
    return {f: hits[f] / len(gold) for f in COUNT_FIELDS}, misses


def line(name: str, acc: dict[str, float], n: int) -> str:
    overall = sum(acc.values()) / len(acc)
    return (f"{name:<34} {acc['discharged_count']:>10.3f} {acc['in_hospital_count']:>11.3f} "
            f"{acc['not_by_june_count']:>11.3f} {overall:>8.3f} {n:>6}")


def main() -> None:
    dev_u = pd.read_csv(DEV / "updates.csv", dtype=str, keep_default_na=False).set_index("id")
    dev_g = pd.read_csv(DEV / "gold.csv", dtype=str, keep_default_na=False).set_index("id")
    tr_g = pd.read_csv(DATA / "updates-gold" / "areas.csv", dtype=str, keep_default_na=False)
    tr_g = tr_g[tr_g["split"] == "train"].set_index("locality")
    tr_u = pd.read_csv(DATA / "updates.csv", dtype=str, keep_default_na=False).set_index("locality")
    st_g = pd.read_csv(STYLES / "gold" / "areas.csv", dtype=str, keep_default_na=False).set_index("locality")
    st_u = pd.read_csv(STYLES / "updates.csv", dtype=str, keep_default_na=False).set_index("locality")
    print(f"{'counts exact':<34} {'discharged':>10} {'in hospital':>11} {'not by June':>11} {'overall':>8} "
          f"{'areas':>6}")
    dev_acc, dev_miss = exact(dev_u["text"], dev_g)
    print(line("update-counts-dev (development)", dev_acc, len(dev_g)))
    tr_acc, _ = exact(tr_u["text"], tr_g)
    print(line("bundled train split (tuned on)", tr_acc, len(tr_g)))
    st_acc, _ = exact(st_u["text"], st_g)
    print(line("update-styles (not tuned on)", st_acc, len(st_g)))
    if "--misses" in sys.argv:
        for key, f, want, have in dev_miss:
            print(f"{key} {f}: gold {want or '-'}, got {have or '-'} | {dev_g.loc[key, 'phrasing']}")


if __name__ == "__main__":
    main()
