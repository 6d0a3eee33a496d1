"""Routing ideas for answers unlike the training data, measured on the dev and test style-shift sets.

Fits the calibrated model on both bundled rounds once (`pipeline.fit_model`, default settings), then
compares the default routing with two stricter ones, without refitting:

- a novelty limit at a quantile of the training answers' nearest-neighbour similarities (the default, 0,
  only flags answers further out than any training answer);
- sending to review the short answers whose short-answer stance model and shared stance model disagree
  (and, separately, the long answers whose tail and whole-answer stances disagree).

    python bench/styleshift_routing.py     (about two minutes with a warm embedding cache)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from styleshift_eval import DEV, HERE, breakdown, load_styleshift  # noqa: E402

from coder.codebook import load_codebook  # noqa: E402
from coder.model import pipeline  # noqa: E402
from coder.model.answers import Answers  # noqa: E402
from coder.model.embed import Embedder  # noqa: E402
from coder.model.sentences import tails, word_count  # noqa: E402
from coder.model.short import is_short  # noqa: E402
from coder.returns import read_returns  # noqa: E402

GROUPS = ["all", "style: terse", "band: 0-20", "over 120 words"]


def nearest_other(E: np.ndarray) -> np.ndarray:
    """Each training vector's similarity to its nearest other training vector."""
    out = np.empty(len(E), dtype=np.float32)
    for s in range(0, len(E), 2048):
        sim = E[s:s + 2048] @ E.T
        sim[np.arange(len(sim)), np.arange(s, s + len(sim))] = -1.0
        out[s:s + 2048] = sim.max(axis=1)
    return out


def disagreements(clf, emb: Embedder, texts, qids) -> tuple[np.ndarray, np.ndarray]:
    """(short answers whose two stance models disagree, long answers whose tail and whole disagree)."""
    X = clf.prepare(Answers(list(texts), np.asarray(qids), emb.encode(list(texts))), emb)
    classes, P = clf._stance_proba(clf._tfidf(X.texts))
    short, long = np.zeros(len(X), bool), np.zeros(len(X), bool)
    sh = np.flatnonzero(is_short(X.texts, clf.short_words))
    if len(sh):
        short[sh] = clf.short_.predict_proba([X.texts[i] for i in sh], classes).argmax(1) != P[sh].argmax(1)
    lg = [i for i, t in enumerate(X.texts) if word_count(t) > clf.tail_over]
    if lg:
        _, Q = clf._stance_proba(clf._tfidf(tails([X.texts[i] for i in lg], clf.tail_words)))
        long[lg] = Q.argmax(1) != P[lg].argmax(1)
    return short, long


def show(name: str, ss, s, routes) -> None:
    t = breakdown(ss, s["suggested"].to_numpy(), s["confidence"].to_numpy(), routes).set_index("group")
    print(f"  {name:<34}" + " | ".join(f"{g}: auto {t.loc[g, 'auto_share']:.1%} at {t.loc[g, 'auto_precision']:.3f}"
                                      for g in GROUPS if g in t.index), flush=True)


def main() -> None:
    os.environ.setdefault("CODER_CACHE_DIR", str(Path(tempfile.gettempdir()) / "coder-bench-cache"))
    cb = load_codebook()
    df = read_returns(ROOT / "coder" / "data" / "returns.csv", cb)
    emb = Embedder()
    model = pipeline.fit_model(df, cb, emb)
    clf, nov = model.classifier, model.classifier.novelty_
    E = nov.emb_.astype(np.float32)
    loo = nearest_other(E)
    default = nov.min_similarity_
    new = df[(df["text"] != "") & (df["round"] == "2014-05")]
    short, long = disagreements(clf, emb, new["text"], new["qid"])
    print(f"bundled round 2014-05 (trained on): stance models disagree on {short.mean():.2%} (short), "
          f"{long.mean():.2%} (long)")
    for label, folder in (("DEV", DEV), ("TEST", HERE)):
        ss, _ = load_styleshift(cb, folder)
        print(f"{label} ({folder.name}, {len(ss)} answers)")
        for q in (0.0, 0.01, 0.02, 0.05):
            nov.min_similarity_ = float(np.quantile(loo, q)) if q else default
            s = pipeline.suggest(ss, model, emb)
            show(f"novelty quantile {q}", ss, s, s["route"].to_numpy())
        nov.min_similarity_ = default
        s = pipeline.suggest(ss, model, emb)
        short, long = disagreements(clf, emb, ss["text"], ss["qid"])
        for name, flag in (("short disagreeing -> review", short), ("long disagreeing -> review", long),
                           ("both -> review", short | long)):
            routes = s["route"].to_numpy().copy()
            routes[flag] = "review"
            show(name, ss, s, routes)


if __name__ == "__main__":
    main()
