"""Train, suggest and evaluate: the read -> embed -> classify -> route path, usable from a notebook.

Training holds out folds grouped by `source_id` (the same written answer appears in several localities
with names changed), so calibration and thresholds are learned from honest, unseen-answer predictions.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold

from coder import __version__
from coder.codebook import Codebook
from coder.errors import InputError
from coder.examples import read_calibration_examples, read_training_examples
from coder.model.answers import Answers
from coder.model.calibrate import ConfidenceCalibrator, expected_calibration_error, is_long
from coder.model.classify import CodeClassifier, codebook_params, codebook_spec, decide
from coder.model.embed import DEFAULT_EMBEDDER, Embedder
from coder.model.route import choose_thresholds, route
from coder.model.store import codebook_hash, load_model, next_version, now_iso, save_model
from coder.model.unsure import says_unsure, unsure_check
from coder.suggestions import SUGGESTION_COLUMNS

StageFn = Callable[[str, int, int], None]
# + codes a person gave, unlike training, says the writer does not know (coder.model.unsure)
SUGGEST_COLUMNS = [*SUGGESTION_COLUMNS, "human_codes", "novel", "unsure"]
DEFAULT_TARGET = 0.95
DEFAULT_CV = 5


@dataclass
class CoderModel:
    """A trained model with everything needed to suggest and route: estimators, held-out scores, manifest."""

    classifier: CodeClassifier
    calibrator: ConfidenceCalibrator
    oof: pd.DataFrame  # qid, multi, raw, conf, correct: held-out predictions on the training answers
    manifest: dict = field(default_factory=dict)
    blank_code: str = "NR"  # the codebook's code for a blank answer (set from the codebook on fit and open)

    @property
    def version(self) -> str:
        return self.manifest.get("model_version", "unsaved")

    def thresholds(self, target: float | None = None) -> dict[str, float]:
        target = target or self.manifest.get("target_precision", DEFAULT_TARGET)
        if target == self.manifest.get("target_precision") and self.manifest.get("thresholds"):
            return self.manifest["thresholds"]
        if self.manifest.get("threshold_method") == "ltt":  # keep the guarantee at another target
            from coder.model.guarantee import DEFAULT_DELTA, ltt_thresholds

            delta = self.manifest.get("guarantee", {}).get("delta", DEFAULT_DELTA)
            cert = self.oof["certify"].to_numpy(bool) if "certify" in self.oof else np.ones(len(self.oof), bool)
            return ltt_thresholds(self.oof["qid"].to_numpy()[cert], self.oof["conf"].to_numpy()[cert],
                                  self.oof["correct"].to_numpy()[cert], target, delta).thresholds
        return choose_thresholds(self.oof["qid"].to_numpy(), self.oof["conf"].to_numpy(),
                                 self.oof["correct"].to_numpy(), target)

    def unsure_to_review(self, target: float | None = None) -> bool:
        """Whether answers that say the writer does not know go to review at this target precision: their
        held-out auto-coded precision under this target's thresholds falls short of it (`coder.model.unsure`)."""
        target = target or self.manifest.get("target_precision", DEFAULT_TARGET)
        if "unsure" not in self.oof:  # a model saved before the held-out flags were kept
            return bool(self.manifest.get("unsure", {}).get("to_review"))
        routes = route(self.oof["qid"].to_numpy(), self.oof["conf"].to_numpy(), self.thresholds(target))
        return unsure_check(self.oof["unsure"].to_numpy(), routes == "auto", self.oof["correct"].to_numpy(),
                            target)["to_review"]

    def to_bundle(self) -> dict:
        return {"classifier": self.classifier, "calibrator": self.calibrator,
                "oof": {c: self.oof[c].to_numpy() for c in self.oof.columns}}

    @classmethod
    def from_bundle(cls, bundle: dict, manifest: dict, blank_code: str) -> CoderModel:
        return cls(bundle["classifier"], bundle["calibrator"], pd.DataFrame(bundle["oof"]), manifest, blank_code)


def training_rows(df: pd.DataFrame, blank_code: str) -> pd.DataFrame:
    """Coded, non-blank answers, one per (question, written answer, codes): the same text used by several
    returns adds no information. (Weighting by how often a text was used was measured: no gain.)"""
    m = (df["codes"] != "") & (df["text"] != "") & (df["codes"] != blank_code)
    return df[m].drop_duplicates(["qid", "source_id", "codes"]).reset_index(drop=True)


def data_hash(rows: pd.DataFrame) -> str:
    lines = sorted(f"{q}\t{c}\t{t}" for q, c, t in zip(rows["qid"], rows["codes"], rows["text"], strict=True))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _score(clf: CodeClassifier, X: Answers, multi: np.ndarray) -> tuple[list[str], np.ndarray]:
    probs = clf.predict_proba(X)
    out = [decide(p, bool(m)) for p, m in zip(probs, multi, strict=True)]
    return [s for s, _ in out], np.array([c for _, c in out], dtype=float)


def fit_model(df: pd.DataFrame, codebook: Codebook, embedder: Embedder, *, cv: int = DEFAULT_CV,
              target_precision: float = DEFAULT_TARGET, classifier_params: dict | None = None,
              n_jobs: int | None = None, stage: StageFn | None = None, threshold_method: str = "shrunk",
              delta: float | None = None, training_examples: bool = True,
              calibration_examples: bool = True) -> CoderModel:
    """Fit the classifier, its calibration on grouped held-out folds, and the routing thresholds.

    The codebook's `training_examples` (answers in other styles, `coder.examples`) join the training answers
    unless `training_examples` is False: the classifier learns from them and their held-out scores calibrate
    it; the held-out figures in the manifest are the returns' alone, comparable with models trained without.
    The codebook's `calibration_examples` (answers by other writers, never trained on) are scored by the fitted
    classifier and join the held-out answers the calibration is fitted on, unless `calibration_examples` is
    False (`calibration_points`).

    `threshold_method` "shrunk" aims at the target precision (coder.model.route); "ltt" guarantees it with
    probability 1 - `delta` (coder.model.guarantee). The guarantee is recorded in the manifest either way.
    """
    from coder.model.guarantee import DEFAULT_DELTA, certification_half, ltt_thresholds

    if threshold_method not in ("shrunk", "ltt"):
        raise InputError(f"unknown threshold method {threshold_method!r}; use 'shrunk' or 'ltt'")
    n_jobs = n_jobs or min(2, os.cpu_count() or 1)
    rows = training_rows(df, codebook.blank_code)
    if len(rows) < 10:
        raise InputError(f"only {len(rows)} coded, non-blank answers: too few to train on")
    if rows.groupby("qid")["codes"].nunique().max() < 2:
        raise InputError("every question has a single code in the training answers: there is nothing to learn "
                         "(and the held-out figures would be meaningless)", column="codes")
    n_returns = len(rows)
    if training_examples:  # only for the questions the returns answer: the model's scope stays theirs
        examples = read_training_examples(codebook)
        examples = examples[examples["qid"].isin(set(rows["qid"]))]
        if len(examples):
            rows = pd.concat([rows, examples], ignore_index=True)
    example = np.arange(len(rows)) >= n_returns  # the rows appended after the returns' own
    cal = read_calibration_examples(codebook) if calibration_examples else pd.DataFrame()  # read early: a bad file
    cal = cal[cal["qid"].isin(set(rows["qid"]))] if len(cal) else cal                    # fails before training
    spec = codebook_spec(codebook)
    classifier_params = codebook_params(codebook, classifier_params)
    multi = np.array([spec[str(q)]["multi"] for q in rows["qid"]])
    emb = embedder.encode(rows["text"].tolist(), progress=(lambda d, t: stage("embed", d, t)) if stage else None)
    unfitted = CodeClassifier(spec=spec, **(classifier_params or {}))
    X = unfitted.prepare(Answers(rows["text"].tolist(), rows["qid"].to_numpy(), emb), embedder, training=True)
    y = rows["codes"].to_numpy()
    params = classifier_params or {}
    groups = rows["source_id"].to_numpy()
    n_splits = min(cv, len(set(groups)))
    raw = np.zeros(len(rows))
    pred = np.empty(len(rows), dtype=object)
    if n_splits < 2:
        raise InputError("training data needs at least two distinct written answers (source_id) to hold out")
    folds = list(GroupKFold(n_splits=n_splits).split(rows, groups=groups))
    if stage:
        stage("cross-validate", 0, n_splits)

    def held_out(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, list[str], np.ndarray]:
        clf = CodeClassifier(spec=spec, **params).fit(X[a], y[a])
        return (b, *_score(clf, X[b], multi[b]))

    # folds are independent: run them on every core (each fit is single-threaded)
    done = 0
    for b, p, r in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(held_out)(a, b) for a, b in folds):
        pred[b], raw[b] = p, r
        done += 1
        if stage:
            stage("cross-validate", done, n_splits)
    if stage:
        stage("fit", 0, 1)
    correct = pred == y
    # held-out answers are used once: half (by written answer) fits the calibrator, the other half certifies
    # the guaranteed thresholds on the calibrator's scale (coder.model.guarantee)
    certify = certification_half(groups)
    if certify.all() or not certify.any():
        certify = np.arange(len(rows)) % 2 == 1
    short, long = unfitted.short_answers(X), is_long(X.texts)
    clf = CodeClassifier(spec=spec, **params).fit(X, y)
    if stage:
        stage("fit", 1, 1)
    points = calibration_points(cal, clf, embedder, stage)
    fit_half = [np.concatenate([a[~certify], b]) for a, b in zip((raw, correct, multi, short, long), points,
                                                                   strict=True)]
    calibrator = ConfidenceCalibrator().fit(*fit_half)
    conf = calibrator.predict(raw, multi, short, long)
    oof = pd.DataFrame({"qid": rows["qid"].to_numpy(), "multi": multi, "raw": raw, "conf": conf,
                        "correct": correct, "pred": pred.astype(str), "gold": y.astype(str), "certify": certify,
                        "unsure": says_unsure(X.texts)})
    thresholds = choose_thresholds(oof["qid"].to_numpy(), conf, correct, target_precision)
    guarantee = ltt_thresholds(oof["qid"].to_numpy()[certify], conf[certify], correct[certify], target_precision,
                               delta or DEFAULT_DELTA)
    if threshold_method == "ltt":
        thresholds = guarantee.thresholds
    routes = route(oof["qid"].to_numpy(), conf, thresholds)
    own = ~example  # the figures a user compares between models: the returns' held-out answers
    metrics = summarise(oof["gold"][own], oof["pred"][own], oof["qid"][own], conf[own], routes[own])
    unsure = unsure_check(oof["unsure"].to_numpy(), routes == "auto", correct, target_precision)
    manifest = {
        "model_version": None, "created": now_iso(), "coder_version": __version__,
        "codebook": codebook.name, "codebook_hash": codebook_hash(codebook),
        "data_hash": data_hash(rows), "n_train": int(len(rows)), "n_examples": int(len(rows) - n_returns),
        "n_calibration": int(len(cal)), "calibration_hash": data_hash(cal) if len(cal) else "",
        "calibration_accuracy": float(points[1].mean()) if len(cal) else None,
        "rounds": sorted(set(df.loc[df["codes"] != "", "round"])),
        "embedder": embedder.model, "embedder_fingerprint": embedder.fingerprint,
        "classifier": type(clf).__name__, "classifier_params": clf.get_params() | {"spec": "codebook"} | (
            {"stance_examples": "codebook"} if clf.stance_examples == (codebook.stance_example_map or None) else {}),
        "target_precision": target_precision, "thresholds": thresholds,
        "threshold_method": threshold_method, "guarantee": guarantee.to_manifest(),
        "metrics": {"cv_folds": n_splits, "grouped_by": "source_id", **metrics}, "unsure": unsure,
    }
    return CoderModel(clf, calibrator, oof, manifest, codebook.blank_code)


def score_new(answers: pd.DataFrame, clf: CodeClassifier, embedder: Embedder, stage: StageFn | None,
              step: str) -> tuple[Answers, np.ndarray, list[str], np.ndarray]:
    """Embed and score answers (`qid`, `text`) with a fitted classifier as new answers: their prepared form,
    multi-code flags, suggested codes and raw confidence (`predict` and `calibration_points` both)."""
    texts = answers["text"].tolist()
    emb = embedder.encode(texts, progress=(lambda d, t: stage(step, d, t)) if stage else None)
    X = clf.prepare(Answers(texts, answers["qid"].to_numpy(), emb), embedder)
    multi = np.array([clf.spec[str(q)]["multi"] for q in answers["qid"]])
    suggested, raw = _score(clf, X, multi)
    return X, multi, suggested, raw


def calibration_points(cal: pd.DataFrame, clf: CodeClassifier, embedder: Embedder,
                       stage: StageFn | None = None) -> tuple[np.ndarray, ...]:
    """Raw confidence, correctness, and the multi / short / long flags of the fitted classifier's suggestions
    on answers it was never trained on (a codebook's calibration examples): scored as `predict` scores a new
    answer, so they show the calibration what a fresh answer's raw confidence is worth."""
    if cal.empty:
        return np.zeros(0), np.zeros(0, bool), np.zeros(0, bool), np.zeros(0, bool), np.zeros(0, bool)
    X, multi, pred, raw = score_new(cal, clf, embedder, stage, "embed calibration")
    correct = np.asarray(pred, dtype=object) == cal["codes"].to_numpy()
    return raw, correct, multi, clf.short_answers(X), is_long(X.texts)


def train(df: pd.DataFrame, codebook: Codebook, model_dir: str | Path, embedder: Embedder, **kw) -> CoderModel:
    """Fit and save a new model version under `model_dir`, making it the current one."""
    model = fit_model(df, codebook, embedder, **kw)
    version = next_version(model_dir)
    model.manifest["model_version"] = f"{version}-{model.manifest['data_hash'][:6]}"
    save_model(model_dir, model.to_bundle(), model.manifest)
    return model


def open_model(model_dir: str | Path, codebook: Codebook, version: str | None = None) -> CoderModel:
    bundle, manifest = load_model(model_dir, codebook, version)
    return CoderModel.from_bundle(bundle, manifest, codebook.blank_code)


def embedder_for(model: CoderModel, embedder: Embedder | None = None) -> Embedder:
    """The embedder the model was trained with (vectors from another model would be meaningless)."""
    name = model.manifest.get("embedder", DEFAULT_EMBEDDER)
    if embedder is not None and embedder.model == name:
        return embedder
    return Embedder(name)


def predict(df: pd.DataFrame, model: CoderModel, embedder: Embedder | None = None,
            stage: StageFn | None = None) -> pd.DataFrame:
    """`suggested` and calibrated `confidence` for every row; blank answers are NR by rule."""
    embedder = embedder_for(model, embedder)
    spec = model.classifier.spec
    out = df.copy()
    out["suggested"] = ""
    out["confidence"] = 1.0
    out["model_version"] = model.version
    out["novel"] = False
    out["unsure"] = False
    blank = (out["text"] == "").to_numpy()
    out.loc[blank, "suggested"] = model.blank_code
    out.loc[blank, "model_version"] = "rule"
    idx = np.flatnonzero(~blank)
    if len(idx):
        sub = out.iloc[idx]
        unknown = sorted(set(sub["qid"]) - {int(k) for k in spec})
        if unknown:
            raise InputError(f"question {unknown[0]} is not in the model's codebook")
        # score each distinct (question, text) once: a round repeats many answers
        keys = sub[["qid", "text"]].drop_duplicates()
        X, multi, suggested, raw = score_new(keys, model.classifier, embedder, stage, "embed")
        conf = model.calibrator.predict(raw, multi, model.classifier.short_answers(X), is_long(X.texts))
        scored = keys.assign(suggested=suggested, confidence=conf, novel=model.classifier.novel(X),
                             unsure=says_unsure(X.texts))
        merged = sub[["qid", "text"]].merge(scored, on=["qid", "text"], how="left")
        for col in ("novel", "unsure"):
            out.iloc[idx, out.columns.get_loc(col)] = merged[col].to_numpy()
        out.iloc[idx, out.columns.get_loc("suggested")] = merged["suggested"].to_numpy()
        out.iloc[idx, out.columns.get_loc("confidence")] = merged["confidence"].to_numpy()
    return out


def suggest(df: pd.DataFrame, model: CoderModel, embedder: Embedder | None = None,
            target_precision: float | None = None, stage: StageFn | None = None) -> pd.DataFrame:
    """One row per answer with the suggested codes, calibrated confidence and route (auto / review)."""
    out = predict(df, model, embedder, stage)
    thresholds = model.thresholds(target_precision)
    out["route"] = route(out["qid"].to_numpy(), out["confidence"].to_numpy(), thresholds)
    out.loc[out["model_version"] == "rule", "route"] = "auto"
    out.loc[out["novel"].astype(bool), "route"] = "review"  # unlike any training answer: no evidence for it
    if model.unsure_to_review(target_precision):  # held out, such answers fell short of the target
        out.loc[out["unsure"].astype(bool), "route"] = "review"
    # codes a person already gave in the input travel with the suggestion; accept keeps them, push skips them
    out["human_codes"] = df["codes"].to_numpy() if "codes" in df.columns else ""
    out["confidence"] = out["confidence"].astype(float).round(4)
    return out[SUGGEST_COLUMNS]


def summarise(gold: pd.Series, pred: pd.Series, qids: pd.Series, conf: np.ndarray,
              routes: np.ndarray) -> dict:
    """Accuracy, macro-F1, share auto-coded, auto precision, ECE, and the five weakest questions."""
    gold, pred, qids = np.asarray(gold, str), np.asarray(pred, str), np.asarray(qids)
    correct = gold == pred
    auto = np.asarray(routes) == "auto"
    labels_g = [f"{q}:{g}" for q, g in zip(qids, gold, strict=True)]
    labels_p = [f"{q}:{p}" for q, p in zip(qids, pred, strict=True)]
    per_q = pd.Series(correct).groupby(qids).mean().sort_values()
    return {
        "n": int(len(gold)),
        "accuracy": float(correct.mean()) if len(gold) else float("nan"),
        "macro_f1": float(f1_score(labels_g, labels_p, average="macro", labels=sorted(set(labels_g))))
        if len(gold) else float("nan"),
        "auto_share": float(auto.mean()) if len(gold) else float("nan"),
        "auto_precision": float(correct[auto].mean()) if auto.any() else float("nan"),
        "ece": expected_calibration_error(conf, correct),
        "weakest_questions": [{"qid": int(q), "accuracy": round(float(a), 3)} for q, a in per_q.head(5).items()],
    }


def evaluate(df: pd.DataFrame, model: CoderModel, embedder: Embedder | None = None,
             target_precision: float | None = None, stage: StageFn | None = None) -> dict:
    """Score a model on answers with gold codes (non-blank answers only: blanks are NR by rule)."""
    gold = df[(df["codes"] != "") & (df["text"] != "")]
    if gold.empty:
        raise InputError("no coded, non-blank answers to evaluate against", column="codes")
    s = suggest(gold, model, embedder, target_precision, stage)
    m = summarise(gold["codes"], s["suggested"], s["qid"], s["confidence"].to_numpy(), s["route"].to_numpy())
    m["model_version"] = model.version
    m["target_precision"] = target_precision or model.manifest.get("target_precision", DEFAULT_TARGET)
    return m


def route_summary(s: pd.DataFrame) -> pd.DataFrame:
    """Per round: answers, blanks coded NR by rule, auto-coded, to review, answers unlike anything in
    training (sent to review), answers that say the writer does not know (sent to review when the model
    found such answers unreliable), and the mean calibrated confidence of the auto-coded answers (the
    precision the model expects of them)."""
    rows = []
    for rnd, g in s.groupby("round"):
        rule = g["model_version"] == "rule"
        auto = (g["route"] == "auto") & ~rule
        rows.append({"round": rnd, "answers": len(g), "blank (NR)": int(rule.sum()),
                     "auto-coded": int(auto.sum()), "auto share": float(auto.sum() / max((~rule).sum(), 1)),
                     "to review": int((g["route"] == "review").sum()),
                     "unlike training": int(g["novel"].astype(bool).sum()) if "novel" in g else 0,
                     "says unsure": int(g["unsure"].astype(bool).sum()) if "unsure" in g else 0,
                     "expected precision": float(g.loc[auto, "confidence"].mean()) if auto.any() else float("nan")})
    return pd.DataFrame(rows)
