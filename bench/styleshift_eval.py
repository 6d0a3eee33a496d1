"""The style-shift evaluation set (bench/styleshift/): loading and per-style / per-length-band scoring.

Used by bench/bench_core.py. The set is never trained on: every model is trained on the bundled returns
only (both rounds, as a user would) and scored here. See bench/styleshift/README.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from coder.codebook import Codebook
from coder.model.calibrate import expected_calibration_error

HERE = Path(__file__).resolve().parent / "styleshift"
DEV = Path(__file__).resolve().parent / "styleshift-dev"  # our own development set (tune here, not on HERE)
BANDS = [(0, 20, "0-20"), (20, 60, "20-60"), (60, 120, "60-120"), (120, 200, "120-200"), (200, 10**9, "200+")]


def not_clear_code(cb: Codebook, qid: int) -> str | None:
    """The question's "Not clear" code (stance `unclear`), if it has one."""
    q = cb.question(int(qid))
    if q.multi:
        return None
    for c in q.codes:
        if c.stance == "unclear":
            return str(c.code)
    return None


def load_styleshift(cb: Codebook, folder: Path = HERE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(answers to score, answers left out), from `folder` (the held-out set, or `DEV` for the dev set).

    Gold `NR` on a written answer ("?", "-", "To follow.", the question restated) follows the tool's rule
    that NR is for blank answers only: it is recoded to the question's "Not clear" code where the codebook
    has one, and left out (reported) where it has not.
    """
    rows = []
    for part in sorted(folder.glob("*.jsonl")):
        with part.open(encoding="utf-8") as fh:
            rows += [{**json.loads(line), "file": part.stem} for line in fh if line.strip()]
    df = pd.DataFrame(rows)
    df["qid"] = df["qid"].astype(int)
    df["codes"] = df["codes"].astype(str)
    df["gold_original"] = df["codes"]
    nr = df["codes"] == cb.blank_code
    recode = {i: not_clear_code(cb, q) for i, q in zip(df.index[nr], df.loc[nr, "qid"], strict=True)}
    for i, code in recode.items():
        if code is not None:
            df.loc[i, "codes"] = code
    left_out = df[nr & df.index.isin([i for i, c in recode.items() if c is None])]
    df = df.drop(left_out.index).reset_index(drop=True)
    df["words"] = df["text"].str.split().str.len()
    df["band"] = band_of(df["words"].to_numpy())
    df["round"] = "styleshift"
    df["locality"] = df["id"]
    df["region"] = ""
    df["ref"] = [cb.question(q).ref for q in df["qid"]]
    df["support"] = ""
    df["source_id"] = df["id"]
    return df, left_out.reset_index(drop=True)


def band_of(words: np.ndarray) -> np.ndarray:
    out = np.empty(len(words), dtype=object)
    for lo, hi, name in BANDS:
        out[(words >= lo) & (words < hi)] = name
    return out


def ece_floor(conf: np.ndarray, draws: int = 400, seed: int = 0) -> float:
    """The ECE a perfectly calibrated model would show on this many answers at these confidences (mean over
    `draws` simulated outcomes, each answer right with probability its confidence). On a few dozen answers it
    is far above 0: an ECE is only evidence of miscalibration where it clearly exceeds this floor."""
    conf = np.asarray(conf, float)
    if len(conf) == 0:
        return float("nan")
    rng = np.random.default_rng(seed)
    return float(np.mean([expected_calibration_error(conf, rng.random(len(conf)) < conf) for _ in range(draws)]))


def metrics(correct: np.ndarray, conf: np.ndarray, auto: np.ndarray) -> dict:
    correct, conf, auto = np.asarray(correct, bool), np.asarray(conf, float), np.asarray(auto, bool)
    return {"n": int(len(correct)), "accuracy": float(correct.mean()), "auto_share": float(auto.mean()),
            "auto_precision": float(correct[auto].mean()) if auto.any() else float("nan"),
            "ece": expected_calibration_error(conf, correct), "ece_floor": ece_floor(conf)}


def breakdown(ss: pd.DataFrame, pred: np.ndarray, conf: np.ndarray, routes: np.ndarray,
              subsets: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """One row for the whole set, one per style, one per length band, one per file (writer), one per named
    subset (a boolean mask over `ss`)."""
    correct = np.asarray(pred, str) == ss["codes"].to_numpy(str)
    auto = np.asarray(routes) == "auto"
    out = [{"group": "all", **metrics(correct, conf, auto)}]
    for col in ("style", "band"):
        keys = sorted(set(ss[col])) if col == "style" else [b for _, _, b in BANDS if (ss[col] == b).any()]
        for k in keys:
            m = (ss[col] == k).to_numpy()
            out.append({"group": f"{col}: {k}", **metrics(correct[m], np.asarray(conf)[m], auto[m])})
    over = (ss["words"] > 120).to_numpy()
    out.append({"group": "over 120 words", **metrics(correct[over], np.asarray(conf)[over], auto[over])})
    if "file" in ss and ss["file"].nunique() > 1:
        for k in sorted(set(ss["file"])):
            m = (ss["file"] == k).to_numpy()
            out.append({"group": f"file: {k}", **metrics(correct[m], np.asarray(conf)[m], auto[m])})
    for name, m in (subsets or {}).items():
        m = np.asarray(m, bool)
        out.append({"group": name, **metrics(correct[m], np.asarray(conf)[m], auto[m])})
    return pd.DataFrame(out)


def side_by_side(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Accuracy / auto share / precision / ECE (and its floor) of several models in one wide table."""
    parts = []
    for name, t in tables.items():
        t = t.set_index("group")
        parts.append(t[["accuracy", "auto_share", "auto_precision", "ece", "ece_floor"]].add_prefix(f"{name}:"))
    n = next(iter(tables.values())).set_index("group")[["n"]]
    return pd.concat([n, *parts], axis=1)
