"""Route each field of a coded document on its own: auto-accept the certain decisions, queue the rest.

A document's coding is its type plus one yes/no decision per section, question and priority. Each decision
has a calibrated confidence (coder.documents.calibrate). It is accepted automatically when that confidence
reaches its field's threshold, else it waits for a reviewer. A document with nothing waiting never reaches
the review queue; one with a few uncertain fields sends only those.

The thresholds are the answers' (coder.model.route.choose_thresholds): from held-out decisions, per kind,
the lowest confidence at which the auto-accepted decisions still reach the target precision (default 0.95),
each code's own threshold shrunk towards its kind's pooled one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from coder.documents.calibrate import KINDS, FieldCalibrator, decision_correct, field_decisions
from coder.model.route import NEVER, choose_thresholds

DEFAULT_TARGET = 0.95


class FieldRouter:
    """Calibrates field decisions and routes them. `fit(rows)` on held-out rows (calibrate.heldout_rows);
    `route(result)` gives the decisions of one coded document with confidence and route."""

    def __init__(self, target: float = DEFAULT_TARGET) -> None:
        self.target = target

    def fit(self, rows: dict[str, dict[str, np.ndarray]]) -> FieldRouter:
        self.calibrator_ = FieldCalibrator().fit(rows)
        self.thresholds_: dict[str, dict[str, float]] = {}
        for kind, r in rows.items():
            conf = self.calibrator_.confidence(kind, r["raw"], r["given"])
            correct = decision_correct(r)
            for sign, m in (("+", r["given"]), ("-", ~r["given"])):
                # Codes given and codes left out each meet the target on their own: the many easy "not
                # evidenced" decisions must not buy precision for the codes the table says apply.
                # The type is one decision per document: one threshold for all types.
                keys = np.full(m.sum(), "type") if kind == "doc_type" else r["code"][m]
                self.thresholds_[f"{kind}{sign}"] = choose_thresholds(keys, conf[m], correct[m], self.target)
        return self

    def threshold(self, kind: str, code: str, given: bool = True) -> float:
        th = getattr(self, "thresholds_", {}).get(f"{kind}{'+' if given else '-'}", {})
        key = "type" if kind == "doc_type" else str(code)
        return float(th.get(key, th.get("pooled", NEVER)))

    def route(self, result: dict) -> list[dict]:
        """One entry per decision: kind, code, `given` (the model says the code applies), raw score,
        calibrated confidence, threshold, and `route` (`auto` or `review`)."""
        out = []
        for kind, d in field_decisions(result).items():
            conf = (self.calibrator_.confidence(kind, d["raw"], d["given"]) if hasattr(self, "calibrator_")
                    else np.zeros(len(d["raw"])))
            for code, raw, given, c in zip(d["code"], d["raw"], d["given"], conf, strict=True):
                th = self.threshold(kind, code, bool(given))
                out.append({"kind": kind, "code": code, "given": bool(given), "raw": round(float(raw), 4),
                            "confidence": round(float(c), 4), "threshold": round(th, 4),
                            "route": "auto" if c >= th else "review"})
        return out

    def state(self) -> dict:
        return {"target": self.target, "calibrator": self.calibrator_.state(), "thresholds": self.thresholds_}


def router_from_rows(rows: dict | None, target: float = DEFAULT_TARGET) -> FieldRouter:
    """A router for a model's stored held-out rows; with none (a model trained on fewer than three labelled
    documents, or before field routing), every field waits for a reviewer."""
    router = FieldRouter(target)
    if rows:
        router.fit({k: {f: np.asarray(v) for f, v in rows[k].items()} for k in KINDS if k in rows})
    return router


def apply_routes(rec: dict, fields: list[dict]) -> dict:
    """The record with its field decisions and the document's route: `auto` only when nothing waits."""
    waiting = sum(f["route"] == "review" for f in fields)
    return {**rec, "fields": fields, "fields_auto": len(fields) - waiting, "fields_wait": waiting,
            "route": "review" if waiting else "auto"}


def waiting(fields: Sequence[dict], kind: str) -> list[dict]:
    return [f for f in fields if f["kind"] == kind and f["route"] == "review"]


def accepted(fields: Sequence[dict], kind: str) -> list[dict]:
    """Codes accepted automatically as applying (left-out codes accepted as not applying are implied)."""
    return [f for f in fields if f["kind"] == kind and f["route"] == "auto" and f["given"]]


def stored_rows(rows: dict[str, dict[str, np.ndarray]]) -> dict:
    """Held-out rows as the model file keeps them (plain lists and arrays: skops-safe)."""
    return {k: {"code": [str(c) for c in v["code"]], "raw": np.asarray(v["raw"], float),
                "given": np.asarray(v["given"], bool), "truth": np.asarray(v["truth"], bool),
                "doc": np.asarray(v["doc"], int)} for k, v in rows.items()}


def cross_fit(rows: dict[str, dict[str, np.ndarray]], target: float = DEFAULT_TARGET) -> dict[str, np.ndarray]:
    """Each held-out document routed by a router calibrated and thresholded on the *other* documents only,
    so the figures below are what a new document would see. Returns flat arrays over all decisions."""
    from coder.documents.calibrate import subset

    docs = sorted(set(np.concatenate([v["doc"] for v in rows.values()]).tolist()))
    out: dict[str, list] = {"kind": [], "doc": [], "conf": [], "correct": [], "auto": [], "given": []}
    for i in docs:
        router = FieldRouter(target).fit(subset(rows, [j for j in docs if j != i]))
        mine = subset(rows, [i])
        for kind, r in mine.items():
            conf = router.calibrator_.confidence(kind, r["raw"], r["given"])
            th = np.array([router.threshold(kind, c, g) for c, g in zip(r["code"], r["given"], strict=True)])
            n = len(conf)
            out["kind"] += [kind] * n
            out["doc"] += [i] * n
            out["conf"] += conf.tolist()
            out["correct"] += decision_correct(r).tolist()
            out["auto"] += (conf >= th).tolist()
            out["given"] += r["given"].tolist()
    return {k: np.asarray(v) for k, v in out.items()}


def routing_summary(rows: dict, target: float = DEFAULT_TARGET) -> dict:
    """Held-out figures of field routing (cross-fitted, see `cross_fit`): share of documents with nothing to
    review, share of decisions auto-accepted, their precision, and ECE per kind."""
    from coder.model.calibrate import expected_calibration_error

    rows = {k: {f: np.asarray(v) for f, v in r.items()} for k, r in rows.items()}
    cf = cross_fit(rows, target)
    if not len(cf["doc"]):
        return {}
    docs = np.unique(cf["doc"])
    nothing = [bool(cf["auto"][cf["doc"] == d].all()) for d in docs]
    auto = cf["auto"].astype(bool)
    given_auto = auto & cf["given"].astype(bool)
    out = {"target_precision": target, "documents": int(len(docs)), "decisions": int(len(auto)),
           "documents_nothing_to_review": round(float(np.mean(nothing)), 4),
           "decisions_auto": round(float(auto.mean()), 4),
           "precision_auto": round(float(cf["correct"][auto].mean()), 4) if auto.any() else None,
           "precision_auto_given_codes": (round(float(cf["correct"][given_auto].mean()), 4)
                                          if given_auto.any() else None),
           "by_kind": {}}
    for kind in KINDS:
        m = cf["kind"] == kind
        if not m.any():
            continue
        a = auto & m
        out["by_kind"][kind] = {
            "decisions": int(m.sum()), "auto": round(float(a.sum() / m.sum()), 4),
            "precision_auto": round(float(cf["correct"][a].mean()), 4) if a.any() else None,
            "ece": round(expected_calibration_error(cf["conf"][m], cf["correct"][m]), 4)}
    return out
