"""Does the Learn-then-Test guarantee hold as stated? Repeated random grouped splits of the bundled data.

The promise: with probability at least 1 - delta, the precision of the auto-coded answers is at least the
target. Measured here as the share of random splits whose realised precision on unseen answers falls below
the target, which should be at most delta.

What is computed once: one grouped 5-fold cross-validated pass of coder's classifier over every coded,
non-blank answer of coder/data/returns.csv (both rounds; folds grouped by `source_id`, the written answer),
giving each answer a held-out raw score and whether its suggestion was right; embeddings come from the
embedding cache.
What is resampled, per split: the written answers (`source_id`) are shuffled and split in two halves - the
"fitting" half plays the held-out answers `coder train` sees, the other half the unseen answers the model
will route. On the fitting half each method fits its calibrator and chooses thresholds; they are then applied
to the unseen half's held-out scores, and the precision of the answers routed `auto` is the realised
precision. The classifier is not refitted per split (its scores are held-out for every answer either way).

Methods:
  - current: calibrate and certify on the same held-out answers (what coder did before issue 10);
  - split (coder now): half of the fitting half's written answers fit the calibrator, the other half
    certifies, with delta shared (Bonferroni) between the per-question groups and the pooled rest;
  - shrunk: the heuristic target-precision thresholds (no guarantee), for scale.

Run:  CODER_CACHE_DIR=/tmp/cc python bench/bench_guarantee.py [--splits 300] [--target 0.95] [--delta 0.1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coder.codebook import load_codebook
from coder.model.calibrate import ConfidenceCalibrator
from coder.model.embed import Embedder
from coder.model.guarantee import certification_half, ltt_threshold, ltt_thresholds, min_testable
from coder.model.pipeline import fit_model, training_rows
from coder.model.route import choose_thresholds, route
from coder.returns import read_returns


def current_method(q, raw, ok, multi, target, delta):
    """Before issue 10: one calibrator and the Learn-then-Test on the same answers, delta per group."""
    cal = ConfidenceCalibrator().fit(raw, ok, multi)
    conf = cal.predict(raw, multi)
    pooled, _ = ltt_threshold(conf, ok, target, delta)
    th = {"pooled": pooled}
    need = 4 * min_testable(target, delta)
    for qq in sorted(set(q.tolist())):
        m = q == qq
        if m.sum() >= need:
            th[str(qq)] = ltt_threshold(conf[m], ok[m], target, delta)[0]
    return cal, th


def split_method(q, raw, ok, multi, groups, target, delta, seed):
    cert = certification_half(groups, seed)
    cal = ConfidenceCalibrator().fit(raw[~cert], ok[~cert], multi[~cert])
    conf = cal.predict(raw, multi)
    return cal, ltt_thresholds(q[cert], conf[cert], ok[cert], target, delta).thresholds


def shrunk_method(q, raw, ok, multi, target):
    cal = ConfidenceCalibrator().fit(raw, ok, multi)
    return cal, choose_thresholds(q, cal.predict(raw, multi), ok, target)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--splits", type=int, default=300)
    ap.add_argument("--target", type=float, default=0.95)
    ap.add_argument("--delta", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    cb = load_codebook()
    df = read_returns(ROOT / "coder" / "data" / "returns.csv", cb)
    model = fit_model(df, cb, Embedder(), cv=5)
    rows = training_rows(df, cb.blank_code)
    oof = model.oof
    q, raw, ok = oof["qid"].to_numpy(), oof["raw"].to_numpy(float), oof["correct"].to_numpy(bool)
    multi, groups = oof["multi"].to_numpy(bool), rows["source_id"].to_numpy(str)
    t_cv = time.perf_counter() - t0
    print(f"one grouped 5-fold pass: {len(oof)} held-out answers, {len(set(groups))} written answers, "
          f"accuracy {ok.mean():.3f} ({t_cv:.0f} s)")
    rng = np.random.default_rng(args.seed)
    uniq = np.array(sorted(set(groups)))
    res = {"current (calibrate + certify on the same answers)": [], "split (coder now)": [],
           "shrunk heuristic (no guarantee)": []}
    t1 = time.perf_counter()
    for s in range(args.splits):
        fit_ids = set(rng.permutation(uniq)[: len(uniq) // 2].tolist())
        fit = np.array([g in fit_ids for g in groups])
        new = ~fit
        a = (q[fit], raw[fit], ok[fit], multi[fit])
        methods = {"current (calibrate + certify on the same answers)": current_method(*a, args.target, args.delta),
                   "split (coder now)": split_method(*a, groups[fit], args.target, args.delta, seed=s + 1),
                   "shrunk heuristic (no guarantee)": shrunk_method(*a, args.target)}
        for name, (cal, th) in methods.items():
            conf = cal.predict(raw[new], multi[new])
            auto = route(q[new], conf, th) == "auto"
            prec = float(ok[new][auto].mean()) if auto.any() else float("nan")
            res[name].append((auto.mean(), prec))
    t_splits = time.perf_counter() - t1
    print(f"{args.splits} random grouped splits (half the written answers fit, half are unseen), "
          f"target {args.target}, delta {args.delta}; {t_splits:.0f} s for the splits")
    print(f"{'method':<52}{'share below target':>20}{'mean auto share':>17}{'mean precision':>16}"
          f"{'splits auto-coding nothing':>28}")
    for name, r in res.items():
        share = np.array([a for a, _ in r])
        prec = np.array([p for _, p in r])
        opened = ~np.isnan(prec)
        below = float((prec[opened] < args.target).sum() / len(r))
        print(f"{name:<52}{below:>20.3f}{share.mean():>17.3f}{np.nanmean(prec):>16.4f}{(~opened).mean():>28.3f}")
    print("share below target: splits whose auto-coded unseen answers have precision < target (a split that "
          "auto-codes nothing counts as holding); mean precision over splits that auto-code something.")


if __name__ == "__main__":
    main()
