"""Per-field accuracy of `coder people` on the held-out test areas of the bundled update corpus.

Trains on the `train` split of coder/data/updates-gold (50 areas), codes the 35 `test` areas, and prints:
person records found (F1 on (area, label)), status / care package / reasons / plan codes (micro-F1 over
codes, NR counted as a code), estimated discharge month exact, counts exact, and the same for a keyword
baseline (codes from the words of each code's label, first month name in the evidence, first number near a
keyword). Then trains on the whole bundled corpus and prints the same table on bench/update-styles/ (22 areas
written in styles the bundled corpus lacks, never used for tuning; see its README). Usage:

    PYTHONPATH=$PWD python bench/bench_update.py [--bundled-only]
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coder.codebook import load_codebook  # noqa: E402
from coder.people.classify import code_people, read_gold, read_updates, train_people  # noqa: E402
from coder.people.counts import COUNT_FIELDS  # noqa: E402
from coder.people.split import split_people  # noqa: E402

DATA = ROOT / "coder" / "data"
KEYWORDS = {
    "care_package": {"1": r"supported living|\bSL\b", "2": r"own tenancy|own flat|tenancy",
                     "3": r"residential|res care", "4": r"nursing", "5": r"family|parents|mother|home to",
                     "6": r"shared lives",
                     "7": r"forensic", "8": r"hostel|college"},
    "reasons": {"1": r"provider|housing", "2": r"MoJ|Ministry of Justice|37/41|47/49|restricted",
                "3": r"treatment|not ready|clinically", "4": r"funding|CHC", "5": r"ordinary residence|\bOR\b",
                "6": r"Court of Protection|CoP|DoLS|tribunal", "7": r"wish|family|parents", "8": r"recruit|workforce",
                "9": r"transition|phased", "10": r"police"},
}


def norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(s).lower())


def micro_f1(gold: list[str], pred: list[str]) -> float:
    tp = fp = fn = 0
    for g, p in zip(gold, pred, strict=True):
        gs, ps = set(str(g).split(";")), set(str(p).split(";"))
        tp, fp, fn = tp + len(gs & ps), fp + len(ps - gs), fn + len(gs - ps)
    return 2 * tp / max(2 * tp + fp + fn, 1)


def keyword_baseline(text: str) -> dict[str, str]:
    out = {}
    status = ("1" if re.search(r"discharged|d/c|moved|left|out\b", text, re.I) and not
              re.search(r"not by june|will not|won't", text, re.I) else
              "0" if re.search(r"not by june|will not|won't|not be discharged", text, re.I) else "3")
    out["status"] = status
    for col, kw in KEYWORDS.items():
        codes = [c for c, pat in kw.items() if re.search(pat, text, re.I)]
        out[col] = ";".join(codes) if codes else "NR"
    if status in ("1", "3"):
        out["reasons"] = "NR"
    m = re.search(r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.?\s+(20\d\d)", text, re.I)
    months = "jan feb mar apr may jun jul aug sep oct nov dec".split()
    out["est_discharge"] = f"{m.group(2)}-{months.index(m.group(1).lower()) + 1:02d}" if m else ""
    return out


def baseline_counts(text: str) -> dict[str, int | None]:
    out: dict[str, int | None] = dict.fromkeys(COUNT_FIELDS)
    for f, pat in (("discharged_count", r"(\d+)\s+(?:people\s+)?(?:have been\s+)?discharged"),
                   ("in_hospital_count", r"(\d+)\s+(?:people\s+)?(?:still|remain)"),
                   ("not_by_june_count", r"(\d+)\s+(?:people\s+)?(?:will\s+)?not")):
        m = re.search(pat, text, re.I)
        out[f] = int(m.group(1)) if m else None
    return out


STYLES = ROOT / "bench" / "update-styles"


def score(test_u: pd.DataFrame, people_te: pd.DataFrame, areas_te: pd.DataFrame, model) -> None:
    """Code `test_u` with `model` and print the per-field table against the gold and the keyword baseline."""
    t0 = time.time()
    people, areas = code_people(test_u, model)
    print(f"coded {len(areas_te)} areas / {len(people_te)} people in {time.time() - t0:.0f} s")
    gold = {(r.locality, norm(r.person)): r for r in people_te.itertuples(index=False)}
    got = {(r.locality, norm(r.person)): r for r in people.itertuples(index=False)}
    tp = len(gold.keys() & got.keys())
    p, r = tp / max(len(got), 1), tp / max(len(gold), 1)
    found_f1 = 2 * p * r / max(p + r, 1e-9)
    base = {}
    for u in test_u.itertuples(index=False):
        for rec in split_people(u.locality, u.text):
            base[(u.locality, norm(rec.person))] = keyword_baseline(rec.evidence)
    both = sorted(gold.keys() & got.keys())
    both_base = [k for k in both if k in base]
    rows = [("person records found (F1)", found_f1, found_f1, len(gold))]
    for col in ("status", "care_package", "reasons"):
        g = [str(getattr(gold[k], col)) for k in both]
        rows.append((f"{col} codes (micro-F1)", micro_f1(g, [str(getattr(got[k], col)) for k in both]),
                     micro_f1([str(getattr(gold[k], col)) for k in both_base], [base[k][col] for k in both_base]),
                     len(both)))
    g = [str(gold[k].est_discharge) for k in both]
    rows.append(("estimated discharge (month exact)",
                 sum(a == b for a, b in zip(g, [got[k].est_discharge for k in both], strict=True)) / len(both),
                 sum(str(gold[k].est_discharge) == base[k]["est_discharge"] for k in both_base) / len(both_base),
                 len(both)))
    ga = areas_te.set_index("locality")
    pa = areas.set_index("locality")
    texts = test_u.set_index("locality")["text"]
    ok = bok = n = 0
    for loc in ga.index:
        bc = baseline_counts(texts.loc[loc])
        for f in COUNT_FIELDS:
            v = ga.loc[loc, f]
            gv = "" if pd.isna(v) or str(v).strip() == "" else str(int(float(v)))
            ok += str(pa.loc[loc, f]) == gv
            bok += ("" if bc[f] is None else str(bc[f])) == gv
            n += 1
    rows.append(("counts (exact, 3 per area)", ok / n, bok / n, n))
    rows.append(("plan status (accuracy)",
                 float((pa.loc[ga.index, "plan_status"].astype(str) == ga["plan_status"].astype(str)).mean()),
                 float("nan"), len(ga)))
    incons = set(ga.index[ga["counts_consistent"] == "no"])
    flagged = set(pa.index[pa["counts_consistent"] == "no"])
    table = pd.DataFrame(rows, columns=["field", "coder", "keyword baseline", "n"])
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print(f"areas with counts that disagree with the people listed: gold {len(incons)}, flagged {len(flagged)}, "
          f"both {len(incons & flagged)}")
    auto = people["route"] == "auto"
    print(f"person records routed auto: {auto.mean():.1%}; exact on all three codes among them: "
          f"{_all_exact(people[auto], gold):.3f}")


def main() -> None:
    cb = load_codebook(ROOT / "codebook" / "update-2014.yaml")
    updates = read_updates(DATA / "updates.csv")
    people_tr, areas_tr = read_gold(DATA / "updates-gold", "train")
    people_te, areas_te = read_gold(DATA / "updates-gold", "test")
    train_u = updates[updates["locality"].isin(areas_tr["locality"])]
    test_u = updates[updates["locality"].isin(areas_te["locality"])].reset_index(drop=True)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.time()
        model = train_people(train_u, people_tr, areas_tr, cb, Path(tmp) / "m")
        print(f"update round bench, held-out bundled areas: train {len(areas_tr)} areas / {len(people_tr)} people "
              f"({time.time() - t0:.0f} s); test {len(areas_te)} areas / {len(people_te)} people")
        score(test_u, people_te, areas_te, model)
        if "--bundled-only" in sys.argv:
            return
        people_all, areas_all = read_gold(DATA / "updates-gold", None)
        t0 = time.time()
        model = train_people(updates, people_all, areas_all, cb, Path(tmp) / "all")
        styles_u = read_updates(STYLES / "updates.csv")
        people_st, areas_st = read_gold(STYLES / "gold", None)
        print(f"\nupdate round bench, bench/update-styles (styles the bundled corpus lacks): train all "
              f"{len(areas_all)} bundled areas / {len(people_all)} people ({time.time() - t0:.0f} s); "
              f"test {len(areas_st)} areas / {len(people_st)} people")
        score(styles_u, people_st, areas_st, model)


def _all_exact(people: pd.DataFrame, gold: dict) -> float:
    hits = [all(str(getattr(gold[k], c)) == str(getattr(r, c)) for c in ("status", "care_package", "reasons"))
            for r in people.itertuples(index=False) if (k := (r.locality, norm(r.person))) in gold]
    return sum(hits) / max(len(hits), 1)


if __name__ == "__main__":
    main()
