"""Bench for the round-to-round loop on the bundled data: guarantee, review, retrain, report accuracy.

Usage:
  CODER_CACHE_DIR=/tmp/cc python bench/bench_loop.py [--workdir DIR] [--budget 0.25] [--audit]

Steps (round 2014-05's hand codes play the reviewers, and are the truth every figure is measured against):
  1. train v1 on round 2013-06 with the Learn-then-Test threshold (precision >= 0.95 w.p. >= 0.90);
  2. suggest codes for 2014-05; before review the report counts every suggestion;
  3. "review" the answers routed to review (reviewers give the hand code); the rest stay auto-coded;
     then the same with one task per written answer (identical answers grouped; the reviewer gives the
     group's most common hand code to every copy): "humans read" counts tasks, "answers decided" answers;
  3b. alternatively, spend a budget of tasks (share of all answers) on the review set that bounds every
     Appendix 3b line (coder.rounds.bound, target 2 points), and on least-confident-first for comparison;
     prints every line still over 2 points, the worst regional line and the national worst;
  4. retrain on 2013-06 + the reviewed 2014-05 answers: compare with v1 on held-out answers, promote or not;
  5. score the promoted model on the 2014-05 answers nobody reviewed whose written answer it never saw.
Per step: accuracy, share auto-coded, realised precision of the auto-coded answers against the bound, share
of answers humans read, and the largest error of any regional (and the national) Appendix 3b line against
the report from the hand codes.
--audit also flips 3% of 2013-06's hand codes (by written answer) and reports how many the audit finds.

Goals: realised precision never below the bound; after review every regional line within 2 points of the
hand-coded report, with humans reading at most 25% of the answers.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coder.codebook import load_codebook  # noqa: E402
from coder.model import pipeline  # noqa: E402
from coder.model.embed import Embedder
from coder.report.definitions import load_report_definitions
from coder.report.tables import appendix3b, prepare
from coder.returns import read_returns
from coder.review.accept import ACCEPTED_COLUMNS
from coder.review.groups import GROUP, with_groups
from coder.rounds.accepted import read_accepted
from coder.rounds.drift import drift
from coder.rounds.order import plan_review
from coder.rounds.retrain import retrain
from coder.spreadsheet import write_csv_atomic

TRAIN, NEW = "2013-06", "2014-05"


def report_error(coded: pd.DataFrame, truth: pd.DataFrame, cb, defs) -> tuple[float, float, int]:
    """(largest regional error, largest national error, regional lines more than 2 points off)."""
    t = appendix3b(prepare(coded, cb), defs)
    e = (t["pct"] - truth["pct"]).abs()
    reg = t["region"] != "National"
    return float(e[reg].max()), float(e[~reg].max()), int((e[reg] > 2).sum())


def step_row(step: str, codes: np.ndarray, s: pd.DataFrame, gold: pd.DataFrame, auto: np.ndarray,
             reviewed: np.ndarray, truth, cb, defs, bound: float | None, reads: int | None = None) -> dict:
    """One table row; `reads` = tasks a person read (one per written answer when grouped), default one per
    answer decided."""
    nonblank = (gold["text"] != "").to_numpy()
    correct = (s["suggested"].to_numpy() == gold["codes"].to_numpy())
    a = auto & nonblank
    reg, nat, over = report_error(gold.assign(codes=codes), truth, cb, defs)
    return {"step": step, "answers": int(nonblank.sum()), "accuracy": correct[nonblank].mean(),
            "auto share": a.sum() / nonblank.sum(), "auto precision": correct[a].mean() if a.any() else np.nan,
            "bound": bound, "humans read": (reviewed.sum() if reads is None else reads) / len(gold),
            "answers decided": reviewed.sum() / len(gold),
            "max regional error": reg, "regional lines > 2 pts": f"{over}/{int((truth['region'] != 'National').sum())}",
            "max national error": nat}


def markdown(df: pd.DataFrame) -> str:
    """A GitHub-style table (no tabulate dependency)."""
    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in df.itertuples(index=False)]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--budget", type=float, default=0.25, help="share of answers reviewed in step 3b")
    ap.add_argument("--audit", action="store_true", help="also bench the audit on injected code errors")
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-loop-"))
    models = work / "models"
    t0 = time.perf_counter()
    cb = load_codebook()
    defs = load_report_definitions(codebook=cb)
    df = read_returns(ROOT / "coder" / "data" / "returns.csv", cb)
    old = df[df["round"] == TRAIN].reset_index(drop=True)
    new = df[df["round"] == NEW].reset_index(drop=True)
    truth = appendix3b(prepare(new, cb), defs)
    emb = Embedder()
    rows = []

    # 1-2. train v1, suggest for the new round (its codes hidden)
    v1 = pipeline.train(old, cb, models, emb, threshold_method="ltt")
    bound = v1.manifest["guarantee"]["target"]
    s = pipeline.suggest(new.assign(codes=""), v1, emb).reset_index(drop=True)
    assert (s["locality"].to_numpy() == new["locality"].to_numpy()).all()
    auto = (s["route"] == "auto").to_numpy()
    none = np.zeros(len(s), bool)
    rows.append(step_row(f"v1 ({TRAIN}) suggests {NEW}, before review", s["suggested"].to_numpy(), s, new,
                         auto, none, truth, cb, defs, bound))

    # 3. review what was routed to review
    review = ~auto
    codes = np.where(review, new["codes"], s["suggested"])
    rows.append(step_row("after review of routed answers (LTT)", codes, s, new, auto, review, truth, cb, defs,
                         bound))

    # 3'. the same routed answers, one task per written answer (identical answers to a question grouped):
    # the reviewer gives the group's most common hand code to every copy
    groups = with_groups(s)[GROUP].to_numpy()
    decision = pd.Series(new["codes"].to_numpy()).groupby(groups).agg(lambda c: c.value_counts().index[0])
    group_code = decision.reindex(groups).to_numpy()
    routed_groups = set(groups[review])
    g_review = np.isin(groups, list(routed_groups))
    rows.append(step_row("after review of routed answers, one task per written answer",
                         np.where(g_review, group_code, s["suggested"]), s, new, ~g_review, g_review, truth, cb,
                         defs, bound, reads=len(routed_groups)))

    # 3b. a fixed budget of tasks (share of all answers) spent on the review set that bounds every line
    # (may read auto-routed answers too)
    k = int(args.budget * len(s))
    _, plan = plan_review(s, defs, "report-impact", target=2.0, budget=k)
    budget = np.isin(groups, plan.order)
    codes_b = np.where(budget, group_code, s["suggested"])
    # a budget overrides the guaranteed routing: the answers left unread carry no guarantee (bound n/a)
    rows.append(step_row(f"instead: bounded report-impact review, <= {args.budget:.0%} read", codes_b, s, new,
                         ~budget, budget, truth, cb, defs, None, reads=len(plan.order)))
    bounded = appendix3b(prepare(new.assign(codes=codes_b), cb), defs)
    err = (bounded["pct"] - truth["pct"]).abs()
    over = bounded.assign(error=err, truth=truth["pct"])[(err > 2)]
    reg_err = err[bounded["region"] != "National"]
    worst = bounded.loc[reg_err.idxmax()]
    lines_report = [f"bounded review: {len(plan.order)} tasks read ({len(plan.order) / len(s):.1%} of answers), "
                    f"{int(budget.sum())} answers decided ({budget.mean():.1%}); bound within 2 points on "
                    f"every line: {plan.within}",
                    f"  regional lines over 2 points: {int((over['region'] != 'National').sum())}",
                    *[f"    {r.region} Q{r.question} {r.line[:60]!r}: {r.pct} vs {r.truth} (error {r.error:.1f})"
                      for r in over.itertuples()],
                    f"  worst regional line: {worst['region']} Q{worst['question']} {worst['line'][:60]!r} "
                    f"error {reg_err.max():.1f}",
                    f"  national worst error: {err[bounded['region'] == 'National'].max():.1f}"]
    conf_first = np.argsort(s["confidence"].to_numpy(), kind="stable")[:k]
    budget_c = np.zeros(len(s), bool)
    budget_c[conf_first] = True
    budget_c &= (s["model_version"] != "rule").to_numpy()
    rows.append(step_row(f"instead: review {args.budget:.0%} least-confident first",
                         np.where(budget_c, new["codes"], s["suggested"]), s, new, ~budget_c, budget_c, truth,
                         cb, defs, None))

    # the accepted table after the LTT-routed review, as `coder accept` writes it
    acc = new.assign(decided_for="",
                     source=np.where(review, "human", np.where(s["model_version"] == "rule", "rule", "auto")),
                     codes=codes, suggested=s["suggested"], confidence=s["confidence"],
                     model_version=s["model_version"], reviewer=np.where(review, "bench", ""), reviewed_at="",
                     agreed=np.where(review, np.where(new["codes"] == s["suggested"], "yes", "no"), ""))
    write_csv_atomic(acc[ACCEPTED_COLUMNS], work / "accepted.csv")
    write_csv_atomic(old, work / f"returns-{TRAIN}.csv")
    per_round, _ = drift(read_accepted([work / "accepted.csv"], cb))

    # 4. retrain on every human code so far; compare with v1 on held-out reviewed answers
    accepted = read_accepted([work / f"returns-{TRAIN}.csv", work / "accepted.csv"], cb)
    res = retrain(accepted, cb, models, emb)
    c = res.comparison
    v2 = res.model if res.promoted else v1

    # 5. the promoted model on 2014-05 answers nobody reviewed, whose written answer it never trained on
    seen = set(new.loc[review, "source_id"])
    fresh = (~review) & (~new["source_id"].isin(seen)).to_numpy()
    s2 = pipeline.suggest(new[fresh].assign(codes=""), v2, emb).reset_index(drop=True)
    g2 = new[fresh].reset_index(drop=True)
    truth_fresh = None  # a report over a subset is not meaningful: no report error for this step
    ok2 = s2["suggested"].to_numpy() == g2["codes"].to_numpy()
    nb2 = (g2["text"] != "").to_numpy()
    a2 = (s2["route"] == "auto").to_numpy() & nb2
    ok1 = s["suggested"].to_numpy()[fresh] == g2["codes"].to_numpy()
    rows.append({"step": f"{v2.version} on unreviewed {NEW} answers it never saw", "answers": int(nb2.sum()),
                 "accuracy": ok2[nb2].mean(), "auto share": a2.sum() / nb2.sum(),
                 "auto precision": ok2[a2].mean() if a2.any() else np.nan,
                 "bound": v2.manifest["guarantee"]["target"], "humans read": np.nan, "answers decided": np.nan,
                 "max regional error": np.nan,
                 "regional lines > 2 pts": "", "max national error": np.nan})
    del truth_fresh

    table = pd.DataFrame(rows)
    fmt = {"accuracy": "{:.3f}", "auto share": "{:.1%}", "auto precision": "{:.3f}", "bound": "{:.2f}",
           "humans read": "{:.1%}", "answers decided": "{:.1%}", "max regional error": "{:.1f}",
           "max national error": "{:.1f}"}
    show = table.copy()
    show["bound"] = show["bound"].astype(float)
    for col, f in fmt.items():
        show[col] = [("" if pd.isna(v) else f.format(v)) for v in show[col]]
    (work / "bench_loop.json").write_text(table.to_json(orient="records", indent=1))
    print(markdown(show))
    print()
    print("\n".join(lines_report))
    print(f"retrain: {res.version} vs {res.previous} on {c.heldout}: accuracy {c.candidate['accuracy']:.3f} vs "
          f"{c.current['accuracy']:.3f}, auto share {c.candidate['auto_share']:.1%} vs "
          f"{c.current['auto_share']:.1%}, auto precision {c.candidate['auto_precision']:.3f} vs "
          f"{c.current['auto_precision']:.3f} -> {'promoted' if res.promoted else 'not promoted'}")
    print(f"v1 accuracy on the same never-seen unreviewed answers: {ok1[nb2].mean():.3f}")
    print("drift, reviewed answers of", NEW, ":", per_round.round(3).to_dict("records"))

    if args.audit:
        from coder.rounds.audit import audit

        rng = np.random.default_rng(0)
        coded = old[(old["text"] != "") & (old["codes"] != "NR")]
        singles = coded[~coded["qid"].map(lambda q: cb.question(q).multi)]
        pairs = singles[["qid", "source_id"]].drop_duplicates()
        flip = pairs.sample(frac=0.03, random_state=0)
        noisy = old.copy()
        key = noisy.set_index(["qid", "source_id"]).index
        hit = key.isin(pd.MultiIndex.from_frame(flip))
        for i in np.flatnonzero(hit.to_numpy() if hasattr(hit, "to_numpy") else hit):
            q = cb.question(int(noisy.at[i, "qid"]))
            others = [c for c in q.code_values if c not in (noisy.at[i, "codes"], "NR")]
            noisy.at[i, "codes"] = others[rng.integers(len(others))]
        flags = audit(noisy, cb, emb, classifier_params=None)
        flagged = set(zip(flags["qid"], flags["source_id"], strict=True))
        injected = set(zip(flip["qid"], flip["source_id"], strict=True))
        n_pairs = len(noisy[(noisy["text"] != "") & (noisy["codes"] != "NR")][["qid", "source_id"]]
                      .drop_duplicates())
        found = len(flagged & injected)
        print(f"audit: {len(injected)} written answers' codes flipped (of {n_pairs}); {len(flagged)} flagged; "
              f"{found} of the flipped found (recall {found / len(injected):.0%}, precision "
              f"{found / max(len(flagged), 1):.0%}; flagging at random would find "
              f"{len(flagged) / n_pairs:.0%} of them)")
    print(f"wall time {time.perf_counter() - t0:.0f} s; work folder {work}")


if __name__ == "__main__":
    main()
