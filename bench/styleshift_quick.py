"""Quick check of one classifier setting on the style-shift set and the round split (uncalibrated).

Fits `CodeClassifier` (no calibration, no held-out folds) on both bundled rounds and scores the
style-shift set per style and length band, then fits on round 2013-06 and scores 2014-05. One fit at a
time; about a minute each with a warm embedding cache. For trying ideas before a full bench run:

    python bench/styleshift_quick.py                        (defaults)
    python bench/styleshift_quick.py '{"short_words": 0}'   (CodeClassifier keyword arguments)
    python bench/styleshift_quick.py --dev '{...}'          (our development set, bench/styleshift-dev/:
                                                             tune there; bench/styleshift is the test)
    python bench/styleshift_quick.py --dev --no-split       (skip the round split)
    python bench/styleshift_quick.py --no-examples          (trained on the returns alone, without the
                                                             codebook's training examples)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from styleshift_eval import BANDS, DEV, HERE, load_styleshift  # noqa: E402

from coder.codebook import load_codebook  # noqa: E402
from coder.examples import read_training_examples  # noqa: E402
from coder.model import pipeline  # noqa: E402
from coder.model.answers import Answers  # noqa: E402
from coder.model.classify import CodeClassifier, codebook_params, codebook_spec, decide  # noqa: E402
from coder.model.embed import Embedder  # noqa: E402
from coder.returns import read_returns  # noqa: E402


def fit_predict(train: pd.DataFrame, test: pd.DataFrame, cb, emb: Embedder, params: dict):
    spec = codebook_spec(cb)
    params = codebook_params(cb, params)  # the codebook's stance examples, as pipeline.fit_model does
    rows = pipeline.training_rows(train, cb.blank_code)
    clf = CodeClassifier(spec=spec, **params)
    X = clf.prepare(Answers(rows["text"].tolist(), rows["qid"].to_numpy(), emb.encode(rows["text"].tolist())), emb,
                    training=True)
    t0 = time.perf_counter()
    clf.fit(X, rows["codes"].to_numpy())
    fit_s = time.perf_counter() - t0
    Xt = clf.prepare(Answers(test["text"].tolist(), test["qid"].to_numpy(), emb.encode(test["text"].tolist())), emb)
    probs = clf.predict_proba(Xt)
    out = [decide(p, spec[str(q)]["multi"]) for p, q in zip(probs, test["qid"], strict=True)]
    return np.array([c for c, _ in out], dtype=object), np.array([p for _, p in out]), fit_s


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    params = json.loads(args[0]) if args else {}
    os.environ.setdefault("CODER_CACHE_DIR", str(Path(tempfile.gettempdir()) / "coder-bench-cache"))
    cb = load_codebook()
    df = read_returns(ROOT / "coder" / "data" / "returns.csv", cb)
    emb = Embedder()
    ss, _ = load_styleshift(cb, DEV if "--dev" in sys.argv else HERE)
    if "--no-examples" not in sys.argv:  # as pipeline.fit_model: the codebook's training examples join training
        df = pd.concat([df, read_training_examples(cb)], ignore_index=True)
    pred, conf, fit_s = fit_predict(df, ss, cb, emb, params)
    ok = pred == ss["codes"].to_numpy(str)
    from coder.model.calibrate import expected_calibration_error as ece

    print(f"params {params}; fit on both rounds {fit_s:.0f} s")
    name = "DEV set" if "--dev" in sys.argv else "TEST set"
    print(f"{name}: style-shift all n={len(ss)} acc {ok.mean():.3f} ece(raw) {ece(conf, ok):.3f}")
    for k in sorted(set(ss["style"])):
        m = (ss["style"] == k).to_numpy()
        print(f"  style {k:<22} n={m.sum():>3} acc {ok[m].mean():.3f} ece(raw) {ece(conf[m], ok[m]):.3f}")
    for _, _, b in BANDS:
        m = (ss["band"] == b).to_numpy()
        print(f"  band  {b:<22} n={m.sum():>3} acc {ok[m].mean():.3f} ece(raw) {ece(conf[m], ok[m]):.3f}")
    m = (ss["words"] > 120).to_numpy()
    print(f"  over 120 words{'':<15} n={m.sum():>3} acc {ok[m].mean():.3f}")
    if os.environ.get("DUMP"):
        ss.assign(pred=pred, conf=conf, ok=ok).to_csv(os.environ["DUMP"], index=False)
    if "--no-split" in sys.argv:
        return
    train, test = df[df["round"].isin(["2013-06", "examples"])], df[df["round"] == "2014-05"]
    test = test[(test["text"] != "") & (test["codes"] != "")]  # as pipeline.evaluate
    pred, conf, fit_s = fit_predict(train, test, cb, emb, params)
    ok = pred == test["codes"].to_numpy(str)
    print(f"round split 2013-06 -> 2014-05 n={len(test)} acc {ok.mean():.4f} (fit {fit_s:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
