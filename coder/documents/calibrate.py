"""Calibrated confidence for every field decision of a coded document.

A document's coding is many small decisions: its type, and for each section, question and priority whether
the document gives evidence for it. Each gets its own confidence, the chance that the decision is right, so
that the certain ones can be accepted without a reviewer (coder.documents.route).

Why it is built this way:
- The model's raw probabilities are learnt on a couple of dozen labelled documents and are not calibrated.
  The maps are fitted on *held-out* predictions: leave-one-document-out over the labelled documents, the whole
  answer bank (which stands in for documents as passage evidence) in every fold. Folds are whole documents,
  because the decisions of one document are not independent of each other.
- One map per field kind (type, sections, questions, priorities): their raw scores are on different scales.
  Isotonic regression when a kind has enough held-out decisions of both outcomes; a two-parameter logistic
  (Platt) map when it has few; the raw score when every held-out decision had the same outcome (a map fitted
  to all-correct data would claim certainty nobody measured).
- The maps are stored as plain arrays, so the model file stays skops-safe.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from coder.documents.model import DocumentCoder, EmbeddedDocument

KINDS = ("doc_type", "sections", "questions", "priorities")
MIN_ISOTONIC = 200  # held-out decisions a kind needs (and 10 of each outcome) for an isotonic map
EPS = 1e-4


def heldout_results(docs: Sequence[EmbeddedDocument], labels: Sequence[dict], codebook,
                    **fit_kw) -> list[dict]:
    """Leave-one-document-out predictions: each document coded by a model that never saw its labels.

    `fit_kw` are DocumentCoder.fit's keyword arguments; pass `passage_clf` (fitted once on the answer bank) so
    the folds do not refit it: it does not depend on the labelled documents.
    """
    n = len(docs)
    if fit_kw.get("passage_clf") is None:
        full = DocumentCoder(codebook).fit(docs, labels, **fit_kw)
        fit_kw = {**fit_kw, "passage_clf": full.passage_clf_}
    out = []
    for i in range(n):
        tr = [j for j in range(n) if j != i]
        m = DocumentCoder(codebook).fit([docs[j] for j in tr], [labels[j] for j in tr], **fit_kw)
        out.append(m.predict(docs[i]))
    return out


def field_decisions(result: dict) -> dict[str, dict[str, list]]:
    """Every decision of one coded document, by kind: code, raw score, and whether the code is given.

    Type: one decision (the chosen type, its probability). Sections, questions, priorities: one decision per
    code, `given` when the model lists it; its raw score is the code's probability either way.
    """
    out = {k: {"code": [], "raw": [], "given": []} for k in KINDS}
    t = result["doc_type"]
    out["doc_type"] = {"code": [str(t["code"])], "raw": [float(t["confidence"])], "given": [True]}
    for kind in KINDS[1:]:
        chosen = {str(x["code"]) for x in result[kind]}
        for code, p in result["scores"][kind].items():
            out[kind]["code"].append(str(code))
            out[kind]["raw"].append(float(p))
            out[kind]["given"].append(code in chosen)
    return out


def truth_of(kind: str, codes: list[str], label: dict) -> list[bool]:
    """Whether each code applies, by the label: for the type, whether the chosen type is the labelled one."""
    if kind == "doc_type":
        return [c == label["doc_type"] for c in codes]
    return [c in {str(x) for x in label.get(kind, [])} for c in codes]


def heldout_rows(results: Sequence[dict], labels: Sequence[dict]) -> dict[str, dict[str, np.ndarray]]:
    """Held-out decisions pooled by kind, with the document each came from (`doc`, for grouped folds)."""
    rows: dict[str, dict[str, list]] = {k: {"code": [], "raw": [], "given": [], "truth": [], "doc": []}
                                        for k in KINDS}
    for i, (r, lab) in enumerate(zip(results, labels, strict=True)):
        for kind, d in field_decisions(r).items():
            rows[kind]["code"] += d["code"]
            rows[kind]["raw"] += d["raw"]
            rows[kind]["given"] += d["given"]
            rows[kind]["truth"] += truth_of(kind, d["code"], lab)
            rows[kind]["doc"] += [i] * len(d["code"])
    return {k: {"code": np.asarray(v["code"], dtype=str), "raw": np.asarray(v["raw"], float),
                "given": np.asarray(v["given"], bool), "truth": np.asarray(v["truth"], bool),
                "doc": np.asarray(v["doc"], int)} for k, v in rows.items()}


def subset(rows: dict[str, dict[str, np.ndarray]], keep_docs) -> dict[str, dict[str, np.ndarray]]:
    """The rows of some documents only (cross-fitting: calibrate on the others)."""
    keep_docs = np.asarray(list(keep_docs))
    return {k: {f: a[np.isin(v["doc"], keep_docs)] for f, a in v.items()} for k, v in rows.items()}


class FieldCalibrator:
    """Per kind, a monotone map from raw score to the probability that the code applies (for the type: that
    the chosen type is right). Scikit-learn manners: `fit` on held-out rows, `probability`/`confidence`."""

    def __init__(self, min_isotonic: int = MIN_ISOTONIC) -> None:
        self.min_isotonic = min_isotonic

    def fit(self, rows: dict[str, dict[str, np.ndarray]]) -> FieldCalibrator:
        from sklearn.isotonic import IsotonicRegression
        from sklearn.linear_model import LogisticRegression

        self.maps_: dict[str, dict] = {}
        for kind, r in rows.items():
            raw, y = r["raw"], r["truth"]
            pos, neg = int(y.sum()), int((~y).sum())
            if len(raw) >= self.min_isotonic and min(pos, neg) >= 10:
                iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y.astype(float))
                self.maps_[kind] = {"method": "isotonic", "x": iso.X_thresholds_.tolist(),
                                    "y": iso.y_thresholds_.tolist()}
            elif pos and neg:
                lr = LogisticRegression(C=1.0).fit(_logit(raw)[:, None], y.astype(int))
                self.maps_[kind] = {"method": "platt", "a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}
            else:
                self.maps_[kind] = {"method": "raw"}
        return self

    def probability(self, kind: str, raw) -> np.ndarray:
        """Calibrated P(code applies | raw score)."""
        raw = np.asarray(raw, float)
        m = self.maps_.get(kind, {"method": "raw"})
        if m["method"] == "isotonic":
            return np.interp(raw, m["x"], m["y"])
        if m["method"] == "platt":
            return 1 / (1 + np.exp(-(m["a"] * _logit(raw) + m["b"])))
        return np.clip(raw, 0.0, 1.0)

    def confidence(self, kind: str, raw, given) -> np.ndarray:
        """Calibrated chance that the decision (code given or left out) is right."""
        p = self.probability(kind, raw)
        return np.where(np.asarray(given, bool), p, 1 - p)

    def state(self) -> dict:
        return {"min_isotonic": self.min_isotonic, "maps": self.maps_}

    @classmethod
    def from_state(cls, state: dict) -> FieldCalibrator:
        self = cls(state["min_isotonic"])
        self.maps_ = state["maps"]
        return self


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, float), EPS, 1 - EPS)
    return np.log(p / (1 - p))


def decision_correct(rows: dict[str, np.ndarray]) -> np.ndarray:
    """Whether each held-out decision was right: a given code applies, a left-out code does not."""
    return rows["given"] == rows["truth"]
