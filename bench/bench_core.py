"""How good and how fast the code classifier is, side by side with two baselines.

Quality, on the bundled returns, two ways:
  - round split: train on round 2013-06, test on round 2014-05;
  - grouped 5-fold cross-validation over both rounds, grouped by `source_id` (the written answer).
Models: the majority code per question; TF-IDF + logistic regression per question; coder's classifier
(stance shared across questions x per-question embedding heads, calibrated). Baselines are routed the
same way as coder (thresholds from grouped held-out predictions on the training data), so "auto-coded"
means the same for all three.

Speed: `suggest` on a whole round with a warm and a cold embedding cache, against
`SentenceTransformer.encode` alone on the same texts, and training on both rounds from a cold cache.

Style shift (bench/styleshift/, see its README): trained on both bundled rounds, as a user would, and
scored on 1,328 hand-written answers in ten styles the bundled bank lacks (712 before the seventh pass, in the
files part1 and part2, which get a row of their own), per style, length band and file,
for TF-IDF + LR, coder as it was before issue 11 (`TODAY`), coder now trained on the returns alone, and coder
now (the returns plus the codebook's training examples, `coder.examples`); the two coder models also on the
development sets (bench/styleshift-dev/). `ece_floor` is the ECE a perfectly calibrated model would show on that
many answers at those confidences: a band's ECE means miscalibration only where it clearly exceeds it.
Tables also go to bench/out/.

Run:  python bench/bench_core.py              (about 15 minutes on 2 cores)
      python bench/bench_core.py --quick      (round split only, no cold timings, no style shift)
      python bench/bench_core.py --styleshift (style shift only)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from coder.codebook import load_codebook  # noqa: E402
from coder.model import pipeline  # noqa: E402
from coder.model.embed import Embedder, EmbeddingCache
from coder.model.route import choose_thresholds, route
from coder.returns import read_returns

TARGET = 0.95
CODER = "coder (shared stance x embedding and word heads)"
# coder's classifier as it was before issue 11 (whole-answer scoring, no style features, no novelty)
TODAY = {"normalise": False, "augment": 0, "sentence_weight": 0.0, "strip_questions": False,
         "label_examples": False, "novelty": False, "chunk_words": 0, "short_words": 0, "tail_weight": 0.0,
         "rag_weight": 0.0, "word_head_weight": 0.0, "multi_C": 4.0, "multi_class_weight": None}
OUT = ROOT / "bench" / "out"


class MajorityPerQuestion:
    name = "majority code per question"

    def fit(self, df: pd.DataFrame) -> MajorityPerQuestion:
        self.codes_ = df.groupby("qid")["codes"].agg(lambda s: s.value_counts().index[0]).to_dict()
        self.share_ = df.groupby("qid")["codes"].agg(lambda s: s.value_counts(normalize=True).iloc[0]).to_dict()
        return self

    def predict(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        return (np.array([self.codes_.get(q, "1") for q in df["qid"]]),
                np.array([self.share_.get(q, 0.0) for q in df["qid"]]))


class TfidfPerQuestion:
    name = "TF-IDF + logistic regression per question"

    def fit(self, df: pd.DataFrame) -> TfidfPerQuestion:
        self.models_ = {}
        for q, g in df.groupby("qid"):
            if g["codes"].nunique() < 2:
                self.models_[q] = g["codes"].iloc[0]
                continue
            vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
            X = vec.fit_transform(g["text"])
            self.models_[q] = (vec, LogisticRegression(C=10, max_iter=2000).fit(X, g["codes"]))
        return self

    def predict(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        pred = np.empty(len(df), dtype=object)
        conf = np.zeros(len(df))
        for q in df["qid"].unique():
            rows = np.flatnonzero((df["qid"] == q).to_numpy())
            m = self.models_.get(q)
            if m is None:
                pred[rows], conf[rows] = "1", 0.0
            elif isinstance(m, str):
                pred[rows], conf[rows] = m, 1.0
            else:
                vec, lr = m
                p = lr.predict_proba(vec.transform(df["text"].iloc[rows]))
                pred[rows], conf[rows] = lr.classes_[p.argmax(1)], p.max(1)
        return pred, conf


def baseline_scores(make, train: pd.DataFrame, test: pd.DataFrame) -> dict:
    """Fit, route with thresholds from grouped held-out predictions on the training data, score on test."""
    rows = pipeline.training_rows(train, load_codebook().blank_code)
    oof_pred = np.empty(len(rows), dtype=object)
    oof_conf = np.zeros(len(rows))
    for a, b in GroupKFold(5).split(rows, groups=rows["source_id"]):
        p, c = make().fit(rows.iloc[a]).predict(rows.iloc[b])
        oof_pred[b], oof_conf[b] = p, c
    th = choose_thresholds(rows["qid"].to_numpy(), oof_conf, oof_pred == rows["codes"].to_numpy(), TARGET)
    gold = test[(test["text"] != "") & (test["codes"] != "")]
    pred, conf = make().fit(rows).predict(gold)
    routes = route(gold["qid"].to_numpy(), conf, th)
    return pipeline.summarise(gold["codes"], pred, gold["qid"], conf, routes)


def coder_scores(train: pd.DataFrame, test: pd.DataFrame, cb, embedder) -> dict:
    model = pipeline.fit_model(train, cb, embedder, target_precision=TARGET)
    return pipeline.evaluate(test, model, embedder)


def styleshift(df: pd.DataFrame, cb, embedder) -> pd.DataFrame:
    """Train on both bundled rounds; score the style-shift set and the development sets per style, length band
    and file."""
    from styleshift_eval import BANDS, DEV, breakdown, load_styleshift, side_by_side

    ss, left_out = load_styleshift(cb)
    dev, _ = load_styleshift(cb, DEV)  # other writers' answers (bench/styleshift-dev), never trained on either
    dev_tables = {}
    print(f"style-shift set: {len(ss)} answers scored, {len(left_out)} left out (gold NR on a written answer "
          "to a question with no 'Not clear' code)", flush=True)
    tables = {}
    # the set as it was before the seventh pass added part3, part4 and part6: figures comparable with earlier runs
    first = {"first two files (part1, part2)": ss["file"].isin(["part1", "part2"]).to_numpy()}
    # the set as the ninth pass measured it, before the tenth added four writers' long answers (part7-part10)
    ninth = ss["file"].isin(["part1", "part2", "part3", "part4", "part6"]).to_numpy()
    first["files part1-part6 (1,328: the ninth pass's set)"] = ninth
    for lo, _hi, band in BANDS:
        if lo >= 120:
            first[f"files part1-part6, {band} words"] = ninth & (ss["band"] == band).to_numpy()
    t0 = time.perf_counter()
    tf = TfidfPerQuestion
    rows = pipeline.training_rows(df, cb.blank_code)
    oof_pred, oof_conf = np.empty(len(rows), dtype=object), np.zeros(len(rows))
    for a, b in GroupKFold(5).split(rows, groups=rows["source_id"]):
        oof_pred[b], oof_conf[b] = tf().fit(rows.iloc[a]).predict(rows.iloc[b])
    th = choose_thresholds(rows["qid"].to_numpy(), oof_conf, oof_pred == rows["codes"].to_numpy(), TARGET)
    pred, conf = tf().fit(rows).predict(ss)
    tables["TF-IDF+LR"] = breakdown(ss, pred, conf, route(ss["qid"].to_numpy(), conf, th), first)
    print(f"  TF-IDF + LR: {time.perf_counter() - t0:.0f} s", flush=True)
    runs = (("coder before", TODAY, False), ("coder, returns only", None, False), ("coder now", None, True))
    for name, params, examples in runs:
        t0 = time.perf_counter()
        model = pipeline.fit_model(df, cb, embedder, target_precision=TARGET, classifier_params=params,
                                   training_examples=examples, calibration_examples=examples)
        t1 = time.perf_counter()
        s = pipeline.suggest(ss, model, embedder)
        tables[name] = breakdown(ss, s["suggested"].to_numpy(), s["confidence"].to_numpy(), s["route"].to_numpy(),
                                 first)
        d = pipeline.suggest(dev, model, embedder)
        dev_tables[name] = breakdown(dev, d["suggested"].to_numpy(), d["confidence"].to_numpy(), d["route"].to_numpy())
        m = model.manifest["metrics"]
        print(f"  {name}: fit {t1 - t0:.0f} s, suggest {time.perf_counter() - t1:.1f} s, "
              f"novel (sent to review) {s['novel'].astype(bool).mean():.1%}; its own grouped 5-fold CV on the "
              f"bundled rounds: accuracy {m['accuracy']:.3f}, auto {m['auto_share']:.1%} at "
              f"{m['auto_precision']:.3f}, ECE {m['ece']:.3f}", flush=True)
    wide = side_by_side(tables)
    OUT.mkdir(exist_ok=True)
    wide.to_csv(OUT / "styleshift_by_group.csv", float_format="%.4f")
    side_by_side(dev_tables).to_csv(OUT / "styleshift_dev_by_group.csv", float_format="%.4f")
    for name, t in tables.items():
        print(f"\n{name}:")
        print(t.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for name, t in dev_tables.items():
        if name != "coder before":
            print(f"\n{name}, development set ({len(dev)} answers by other writers; all, length bands and files):")
            keep = ~t["group"].str.startswith("style: ")
            print(t[keep].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return wide


def quality(df: pd.DataFrame, cb, embedder, splits: list[str]) -> pd.DataFrame:
    rows = []
    for split in splits:
        if split == "round":
            folds = [(df[df["round"] == "2013-06"], df[df["round"] == "2014-05"])]
        else:
            groups = df["source_id"].to_numpy()
            folds = [(df.iloc[a], df.iloc[b]) for a, b in GroupKFold(5).split(df, groups=groups)]
        models = ((MajorityPerQuestion.name, lambda tr, te: baseline_scores(MajorityPerQuestion, tr, te)),
                  (TfidfPerQuestion.name, lambda tr, te: baseline_scores(TfidfPerQuestion, tr, te)),
                  (CODER, lambda tr, te: coder_scores(tr, te, cb, embedder)))
        for name, fn in models:
            t0 = time.perf_counter()
            ms = [fn(tr, te) for tr, te in folds]
            n = np.array([m["n"] for m in ms], dtype=float)
            avg = {k: float(np.average([m[k] for m in ms], weights=n))
                   for k in ("accuracy", "macro_f1", "auto_share", "auto_precision", "ece")}
            rows.append({"split": "train 2013-06 / test 2014-05" if split == "round" else
                         "grouped 5-fold CV, both rounds", "model": name, **avg, "seconds": time.perf_counter() - t0})
            print(f"  {rows[-1]['split']:<32} {name:<42} acc {avg['accuracy']:.3f}", flush=True)
    return pd.DataFrame(rows)


def speed(df: pd.DataFrame, cb) -> dict:
    out: dict[str, float] = {}
    new = df[df["round"] == "2014-05"]
    texts = new.loc[new["text"] != "", "text"].tolist()
    unique = list(dict.fromkeys(texts))
    with tempfile.TemporaryDirectory() as tmp:
        # training on both rounds from a cold cache
        cold = EmbeddingCache(Path(tmp) / "cache")
        t0 = time.perf_counter()
        model = pipeline.train(df, cb, Path(tmp) / "models", Embedder(cache=cold))
        out["train both rounds, cold cache (s)"] = time.perf_counter() - t0
        # suggest with a cold cache
        cold2 = EmbeddingCache(Path(tmp) / "cache2")
        emb = Embedder(cache=cold2)
        _ = emb.sentence_transformer  # model load counted separately
        t0 = time.perf_counter()
        pipeline.suggest(new, model, emb)
        out["suggest one round, cold cache (s)"] = time.perf_counter() - t0
        # the same texts through SentenceTransformer.encode alone
        st = emb.sentence_transformer
        t0 = time.perf_counter()
        st.encode(unique, batch_size=64, normalize_embeddings=True)
        out["encode alone, distinct texts (s)"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        st.encode(texts, batch_size=64, normalize_embeddings=True)
        out["encode alone, every text (s)"] = time.perf_counter() - t0
        # warm: a fresh process would load the model and read the file too; time the whole command path
        t0 = time.perf_counter()
        m2 = pipeline.open_model(Path(tmp) / "models", cb)
        pipeline.suggest(read_returns(ROOT / "coder" / "data" / "returns.csv", cb).query("round == '2014-05'"),
                         m2, Embedder(cache=cold2))
        out["suggest one round, warm cache, incl. load (s)"] = time.perf_counter() - t0
    out["answers in the round"] = len(new)
    out["distinct texts"] = len(unique)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="round split only, no cold-cache timings")
    ap.add_argument("--speed", action="store_true", help="only the timings")
    ap.add_argument("--styleshift", action="store_true", help="only the style-shift set")
    args = ap.parse_args()
    os.environ.setdefault("CODER_CACHE_DIR", str(Path(tempfile.gettempdir()) / "coder-bench-cache"))
    cb = load_codebook()
    df = read_returns(ROOT / "coder" / "data" / "returns.csv", cb)
    if args.speed:
        return print_speed(df, cb)
    embedder = Embedder()
    embedder.encode(df["text"].tolist())  # warm the cache once for the quality runs
    if args.styleshift:
        styleshift(df, cb, embedder)
        return
    print("quality:")
    q = quality(df, cb, embedder, ["round"] if args.quick else ["round", "cv"])
    pd.set_option("display.width", 200)
    print()
    print(q.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    coder_rows = q[q["model"].str.startswith("coder")].set_index("split")
    tfidf_rows = q[q["model"].str.startswith("TF-IDF")].set_index("split")
    print("\naccuracy gain over TF-IDF + LR (points):",
          ", ".join(f"{s}: {100 * (coder_rows.loc[s, 'accuracy'] - tfidf_rows.loc[s, 'accuracy']):+.1f}"
                    for s in coder_rows.index))
    if not args.quick:
        print("\nstyle shift:")
        styleshift(df, cb, embedder)
        print_speed(df, cb)


def print_speed(df: pd.DataFrame, cb) -> None:
    print("\nspeed:")
    s = speed(df, cb)
    for k, v in s.items():
        print(f"  {k:<48} {v:,.1f}" if isinstance(v, float) else f"  {k:<48} {v:,}")
    cold = s["suggest one round, cold cache (s)"]
    print(f"  {'cold suggest / encode of distinct texts':<48} {cold / s['encode alone, distinct texts (s)']:.2f}x")
    print(f"  {'cold suggest / encode of every text':<48} {cold / s['encode alone, every text (s)']:.2f}x")


if __name__ == "__main__":
    main()
