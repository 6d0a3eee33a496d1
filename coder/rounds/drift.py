"""Drift: per round and question, how often reviewers changed the suggestion and how well the confidences
of the reviewed answers were calibrated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from coder.codebook import Codebook
from coder.model.calibrate import expected_calibration_error


def drift(acc: pd.DataFrame, codebook: Codebook | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per round, per round and question): how often reviewers changed the suggestion, and calibration.

    Only human-reviewed answers that carried a model suggestion count. `changed` is the share the reviewer
    changed; `ece` the expected calibration error of the suggestions' confidences against what reviewers
    kept. Reviewed answers are the least confident ones, so their ECE is not the model's overall ECE: watch
    it from round to round.
    """
    rev = acc[(acc["source"] == "human") & (acc["suggested"] != "") & (acc["codes"] != "")].copy()
    cols_r = ["round", "reviewed", "changed", "changed_share", "mean_confidence", "kept_share", "ece"]
    cols_q = ["round", "qid", "ref", "reviewed", "changed", "changed_share", "mean_confidence", "ece"]
    if rev.empty:
        return pd.DataFrame(columns=cols_r), pd.DataFrame(columns=cols_q)
    rev["conf"] = pd.to_numeric(rev["confidence"], errors="coerce")
    agreed = rev["agreed"].str.lower()
    same = rev["codes"] == rev["suggested"]
    rev["changed"] = np.where(agreed.isin(["yes", "no"]), agreed == "no", ~same)
    per_round, per_q = [], []
    for rnd, g in rev.groupby("round"):
        ok = g["conf"].notna()
        per_round.append({"round": rnd, "reviewed": len(g), "changed": int(g["changed"].sum()),
                          "changed_share": float(g["changed"].mean()), "mean_confidence": float(g["conf"].mean()),
                          "kept_share": float(1 - g["changed"].mean()),
                          "ece": expected_calibration_error(g.loc[ok, "conf"], ~g.loc[ok, "changed"])})
        for q, h in g.groupby("qid"):
            okq = h["conf"].notna()
            ref = codebook.question(int(q)).ref if codebook is not None else h["ref"].iloc[0]
            per_q.append({"round": rnd, "qid": int(q), "ref": ref, "reviewed": len(h),
                          "changed": int(h["changed"].sum()), "changed_share": float(h["changed"].mean()),
                          "mean_confidence": float(h["conf"].mean()),
                          "ece": expected_calibration_error(h.loc[okq, "conf"], ~h.loc[okq, "changed"])})
    q = pd.DataFrame(per_q, columns=cols_q).sort_values(["round", "changed_share", "reviewed"],
                                                        ascending=[True, False, False], kind="stable")
    return pd.DataFrame(per_round, columns=cols_r), q.reset_index(drop=True)


def novelty_by_round(df: pd.DataFrame, model, embedder=None) -> pd.DataFrame:
    """Per round: written answers, and how many (and what share) are unlike anything the model was trained
    on (`coder.model.novelty`). A rising share means the returns are drifting from the training answers:
    more goes to review, and it is time to retrain on reviewed answers of the new kind."""
    from coder.model.answers import Answers
    from coder.model.pipeline import embedder_for

    cols = ["round", "answers", "unlike_training", "unlike_training_share"]
    written = df[df["text"] != ""].drop_duplicates(["round", "qid", "text"])
    if written.empty:
        return pd.DataFrame(columns=cols)
    emb = embedder_for(model, embedder).encode(written["text"].tolist())
    X = Answers(written["text"].tolist(), written["qid"].to_numpy(), emb)
    novel = model.classifier.novel(X)
    rows = []
    for rnd in sorted(set(written["round"])):
        m = (written["round"] == rnd).to_numpy()
        rows.append({"round": rnd, "answers": int(m.sum()), "unlike_training": int(novel[m].sum()),
                     "unlike_training_share": float(novel[m].mean())})
    return pd.DataFrame(rows, columns=cols)
