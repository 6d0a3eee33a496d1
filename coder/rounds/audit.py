"""Audit human codes: find the ones that look inconsistent with the rest (confident learning).

Every coded answer gets out-of-fold code probabilities from a classifier that did not see its written
answer (folds grouped by `source_id`). Per question and code, the threshold is the code's mean
self-confidence: the average probability the model gives a code on the answers coded with it (Northcutt,
Jiang & Chuang 2021). An answer is flagged when the model's probability of *another* code reaches that
code's threshold while its given code stays below its own. Multi-code questions are audited code by code
(present / absent), the same way.

Flags are suggestions for a second look, never corrections: they are written as a suggestions file with
route `review`, so `coder review push` sends them to reviewers with the model's alternative ticked.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold

from coder.codebook import Codebook
from coder.errors import InputError
from coder.model.answers import Answers
from coder.model.classify import CodeClassifier, codebook_params, codebook_spec
from coder.model.embed import Embedder

AUDIT_COLUMNS = ["round", "locality", "region", "qid", "text", "suggested", "confidence", "route",
                 "model_version", "ref", "support", "source_id", "given", "given_probability", "threshold",
                 "reason"]
StageFn = Callable[[str, int, int], None]


def out_of_fold_proba(rows: pd.DataFrame, codebook: Codebook, embedder: Embedder, cv: int = 5,
                      classifier_params: dict | None = None, stage: StageFn | None = None) -> list[dict[str, float]]:
    """Per row, the code probabilities of a classifier fitted without that row's written answer."""
    spec = codebook_spec(codebook)
    emb = embedder.encode(rows["text"].tolist(), progress=(lambda d, t: stage("embed", d, t)) if stage else None)
    X = Answers(rows["text"].tolist(), rows["qid"].to_numpy(), emb)
    y = rows["codes"].to_numpy()
    groups = rows["source_id"].to_numpy()
    n_splits = min(cv, len(set(groups)))
    if n_splits < 2:
        raise InputError("the audit needs at least two distinct written answers (source_id)")
    out: list[dict[str, float] | None] = [None] * len(rows)
    for i, (a, b) in enumerate(GroupKFold(n_splits=n_splits).split(rows, groups=groups)):
        if stage:
            stage("cross-validate", i, n_splits)
        clf = CodeClassifier(spec=spec, **codebook_params(codebook, classifier_params)).fit(X[a], y[a])
        for j, p in zip(b, clf.predict_proba(X[b]), strict=True):
            out[j] = p
    if stage:
        stage("cross-validate", n_splits, n_splits)
    return out  # type: ignore[return-value]


def find_issues(qids: np.ndarray, given: np.ndarray, probs: list[dict[str, float]],
                multi: dict[int, bool], blank_code: str = "NR") -> pd.DataFrame:
    """Confident-learning flags from out-of-fold probabilities.

    Parameters
    ----------
    qids : array of int
        Question of each answer.
    given : array of str
        The human codes (`1`, `2;5`).
    probs : list of dict
        Out-of-fold probability of each code of the answer's question (a distribution for single-code
        questions, a per-code probability for multi-code ones).
    multi : dict
        Whether each question is multi-code.
    blank_code : str
        The codebook's code for a blank answer, never offered as an alternative.

    Returns
    -------
    DataFrame
        One row per flagged answer (``index`` = its position): ``suggested`` (the model's alternative),
        ``confidence`` (its probability), ``given_probability``, ``threshold`` (the alternative's
        threshold) and ``reason``.
    """
    qids, given = np.asarray(qids), np.asarray(given, dtype=object)
    flags = []
    for q in sorted(set(qids.tolist())):
        idx = np.flatnonzero(qids == q)
        if multi.get(int(q)):
            flags += _multi_issues(idx, given, probs, blank_code)
            continue
        # per-code threshold: mean self-confidence of the answers given that code
        sums: dict[str, list[float]] = {}
        for i in idx:
            sums.setdefault(given[i], []).append(probs[i].get(given[i], 0.0))
        th = {c: float(np.mean(v)) for c, v in sums.items()}
        for i in idx:
            p, g = probs[i], given[i]
            if p.get(g, 0.0) >= th[g]:
                continue
            others = [(c, v) for c, v in p.items() if c != g and c in th and v >= th[c]]
            if others:
                alt, v = max(others, key=lambda cv: cv[1])
                flags.append({"index": int(i), "suggested": alt, "confidence": float(v),
                              "given_probability": float(p.get(g, 0.0)), "threshold": th[alt],
                              "reason": f"P({alt})={v:.2f} >= its threshold {th[alt]:.2f}; "
                                        f"P({g})={p.get(g, 0.0):.2f} < its threshold {th[g]:.2f}"})
    return pd.DataFrame(flags, columns=["index", "suggested", "confidence", "given_probability", "threshold",
                                        "reason"])


def _multi_issues(idx: np.ndarray, given: np.ndarray, probs: list[dict[str, float]], blank_code: str
                  ) -> list[dict]:
    """Code by code: flag a code given (or not) whose out-of-fold probability says the opposite."""
    sets = {i: set(str(given[i]).split(";")) for i in idx}
    codes = sorted({c for i in idx for c in probs[i]}, key=lambda c: (0, int(c)) if c.isdigit() else (1, 0))
    out: dict[int, dict] = {}
    for c in codes:
        on = [probs[i].get(c, 0.0) for i in idx if c in sets[i]]
        off = [1 - probs[i].get(c, 0.0) for i in idx if c not in sets[i]]
        if not on or not off:
            continue
        t_on, t_off = float(np.mean(on)), float(np.mean(off))
        for i in idx:
            p = probs[i].get(c, 0.0)
            has = c in sets[i]
            wrong = (has and p < t_on and 1 - p >= t_off) or (not has and 1 - p < t_off and p >= t_on)
            if not wrong:
                continue
            alt = (sets[i] - {c}) if has else (sets[i] | {c})
            alt.discard(blank_code)
            if not alt:
                continue
            rec = out.setdefault(int(i), {"index": int(i), "alt": set(sets[i]), "why": [], "conf": 1.0,
                                          "given_p": 1.0, "threshold": 0.0})
            rec["alt"] = (rec["alt"] - {c}) if has else (rec["alt"] | {c})
            rec["why"].append(f"code {c} {'given' if has else 'not given'} but P({c})={p:.2f}")
            rec["conf"] *= (1 - p) if has else p
            rec["given_p"] *= p if has else 1 - p
            rec["threshold"] = max(rec["threshold"], t_off if has else t_on)
    flags = []
    for rec in out.values():
        alt = sorted(rec["alt"] - {blank_code}, key=lambda c: (0, int(c)) if c.isdigit() else (1, 0))
        if not alt:
            continue
        flags.append({"index": rec["index"], "suggested": ";".join(alt), "confidence": rec["conf"],
                      "given_probability": rec["given_p"], "threshold": rec["threshold"],
                      "reason": "; ".join(rec["why"])})
    return flags


def audit(df: pd.DataFrame, codebook: Codebook, embedder: Embedder | None = None, cv: int = 5,
          classifier_params: dict | None = None, model_version: str = "", stage: StageFn | None = None
          ) -> pd.DataFrame:
    """Flag human codes that look inconsistent with the rest, as a suggestions-format table (route review).

    `df` is a coded returns file or accepted-codes table (rows with a `source` other than human are
    skipped when the column is there). Rows sharing a written answer and its codes are scored once and
    flagged together. Most doubtful first (highest probability of the alternative).
    """
    coded = df[(df["codes"] != "") & (df["text"] != "") & (df["codes"] != codebook.blank_code)]
    if "source" in coded.columns:
        coded = coded[coded["source"].isin(["human", ""])]
    if coded.empty:
        raise InputError("no human-coded, non-blank answers to audit", column="codes")
    uniq = coded.drop_duplicates(["qid", "source_id", "codes"]).reset_index(drop=True)
    probs = out_of_fold_proba(uniq, codebook, embedder or Embedder(), cv, classifier_params, stage)
    multi = {q.id: q.multi for q in codebook.questions}
    flags = find_issues(uniq["qid"].to_numpy(), uniq["codes"].to_numpy(), probs, multi,
                        blank_code=codebook.blank_code)
    keyed = uniq.loc[flags["index"], ["qid", "source_id", "codes"]].reset_index(drop=True)
    flags = pd.concat([keyed, flags.drop(columns="index")], axis=1)
    # an accepted-codes table brings its own suggestion columns: the audit's replace them
    own = [c for c in flags.columns if c not in ("qid", "source_id", "codes")] + ["route", "model_version"]
    hits = coded.drop(columns=[c for c in own if c in coded.columns]).merge(
        flags, on=["qid", "source_id", "codes"], how="inner")
    tag = f"audit-{model_version}" if model_version else "audit"
    out = hits.rename(columns={"codes": "given"}).assign(route="review", model_version=tag)
    out["confidence"] = out["confidence"].astype(float).round(4)
    out["given_probability"] = out["given_probability"].astype(float).round(4)
    out["threshold"] = out["threshold"].astype(float).round(4)
    out = out.sort_values(["confidence", "round", "locality", "qid"], ascending=[False, True, True, True],
                          kind="stable")
    return out[AUDIT_COLUMNS].reset_index(drop=True)
