"""Auto-coding of good-practice documents: type, stocktake sections and questions, national priorities,
each with a confidence and the passage that best supports it (quoted with its page).

Why it is built this way:
- The labelled documents are few (~25); the answer bank (thousands of written answers, each evidence for its
  question) carries the question signal. A passage classifier learnt on the answer bank scores every passage
  of a document against every question; a small *shared* model learnt on the labelled documents turns a
  document's passage scores into a yes/no per question. Its features do not name the question, so it also
  decides questions no labelled document has. A question with no answers at all falls back to similarity with
  the codebook's question wording, and the output says so (`basis`).
- Document type is a matter of genre, not topic, so it is read from the words a document uses about itself
  (its title, "this protocol", "the parties", "service specification", ...) with weights learnt on the
  labelled documents, again shared across types so a type with no examples still works.
- Only the content counts: file names are never looked at, and results are keyed by the content hash.

Library layout: `DocumentCoder` (a scikit-learn style estimator over embedded documents, no I/O), `train`
(reads labels + answers, fits, saves with skops + a JSON manifest), `code_folder` (resumable batch),
`search`, and `review_rows` / `label_studio_tasks` (the hand-off to the review queue).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from coder.codebook import Codebook, load_codebook
from coder.errors import InputError
from coder.extract import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PAGES,
    DocumentError,
    content_hash,
    list_documents,
)
from coder.files import atomic_path, write_json_atomic, write_text_atomic
from coder.passages import Passage, prepare, prepare_job

MODEL_FILE = "documents.skops"
MANIFEST_FILE = "manifest.json"
SCHEMA = 1

# The vocabulary the issue gives for documents (it is not in the stocktake codebook): a description for the
# similarity fallback, and the words a document of that kind uses about itself.
DOC_TYPES: dict[str, tuple[str, ...]] = {
    "protocol": ("protocol", "procedure", "operating procedure", "pathway", "escalation"),
    "agreement": ("agreement", "deed", "section 75", "s75", "memorandum of understanding", "the parties",
                  "clause", "hereby", "variation", "partners agree"),
    "policy": ("policy", "strategy", "position statement", "policy statement", "charter", "strategic aims"),
    "practice": ("practice example", "case study", "good practice", "what we did", "what worked",
                 "lessons learned", "what difference", "innovative practice", "what we learned"),
    "specification": ("specification", "service specification", "service description", "the provider",
                      "key performance", "eligibility", "referral criteria"),
    "plan": ("plan", "action plan", "delivery plan", "progress report", "terms of reference",
             "work programme", "milestones", "timescale"),
}
PRIORITIES: dict[str, str] = {
    "life course planning": "Life course planning: children and young people in transition to adult "
                            "services, planning ahead from childhood to adulthood, future demand.",
    "working with providers": "Working with providers: care, support and housing providers, provider "
                              "forums, market development, workforce skills and capacity.",
    "keeping people safe": "Keeping people safe: safeguarding, quality of care, reviews of people in "
                           "hospital, advocacy, registers, crisis response and risk.",
    "new financial models": "New financial models: pooled budgets, section 75 agreements, financial risk "
                            "sharing, costs and funding, medium-term financial strategy.",
}
CSV_COLUMNS = ["file", "status", "error", "doc_type", "doc_type_confidence", "sections", "questions",
               "priorities", "route"]


# --- documents as the estimator sees them ------------------------------------------------------------------

@dataclass
class EmbeddedDocument:
    """A document's passages and their embeddings (rows in passage order)."""

    passages: list[Passage]
    vectors: np.ndarray
    pages: int = 0

    @property
    def text(self) -> str:
        return " ".join(p.text for p in self.passages)


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n == 0, 1, n)


def _top_mean(a: np.ndarray, k: int = 3) -> np.ndarray:
    k = max(1, min(k, a.shape[0]))
    return np.sort(a, axis=0)[-k:].mean(axis=0)


def type_features(text: str) -> np.ndarray:
    """(n_types, 5) genre features: title hits, title position, self-references, body share, bias."""
    low = text.lower()
    words = low.split()
    title = " ".join(words[:30])
    rows = []
    for terms in DOC_TYPES.values():
        hits, pos, selfref, body = 0, 1.0, 0, 0
        for term in terms:
            pat = r"\b" + re.escape(term) + r"s?\b"
            m = re.search(pat, title)
            if m:
                hits += 1
                pos = min(pos, m.start() / max(len(title), 1))
            selfref += len(re.findall(r"\b(?:this|the|our)\s+" + re.escape(term) + r"s?\b", low))
            body += len(re.findall(pat, low))
        rows.append([min(hits, 2), (1 - pos) if hits else 0.0, np.log1p(selfref),
                     np.log1p(body) / np.log1p(max(len(words), 2)) * 5, 1.0])
    return np.asarray(rows, dtype=float)


def _type_evidence(doc: EmbeddedDocument, type_name: str) -> int:
    """The passage that says most plainly what kind of document this is (its title, a self-reference)."""
    terms = DOC_TYPES[type_name]
    best, best_score = 0, -1.0
    for i, p in enumerate(doc.passages[:60]):
        low = p.text.lower()
        score = sum(2 * len(re.findall(r"\b(?:this|the|our)\s+" + re.escape(t) + r"s?\b", low))
                    + len(re.findall(r"\b" + re.escape(t) + r"s?\b", low)) for t in terms) - 0.02 * i
        if score > best_score:
            best, best_score = i, score
    return best


class DocumentCoder:
    """Codes embedded documents. Scikit-learn manners: `fit` learns, `predict` codes, no I/O inside.

    `fit(docs, labels, answer_vectors=, answer_qids=, question_vectors=, priority_vectors=)`: labels is a list
    of dicts with doc_type, sections, questions, priorities (lists of strings/ints).
    """

    def __init__(self, codebook: Codebook, *, c_passage: float = 10.0, c_pair: float = 10.0,
                 c_type: float = 1.0, c_priority: float = 10.0, question_threshold: float = 0.5,
                 priority_threshold: float = 0.4, wording_temperature: float = 20.0) -> None:
        self.codebook = codebook
        self.c_passage = c_passage
        self.c_pair = c_pair
        self.c_type = c_type
        self.c_priority = c_priority
        self.question_threshold = question_threshold
        self.priority_threshold = priority_threshold
        self.wording_temperature = wording_temperature

    # -- features --
    @property
    def qids(self) -> list[int]:
        return [q.id for q in self.codebook.questions]

    def passage_question_scores(self, vectors: np.ndarray) -> np.ndarray:
        """P(question | passage), (n_passages, n_questions): from the answer bank, or from the codebook
        wording for questions without answers."""
        n_q = len(self.qids)
        out = np.zeros((vectors.shape[0], n_q))
        if vectors.shape[0] == 0:
            return out
        if self.passage_clf_ is not None:
            proba = self.passage_clf_.predict_proba(vectors)
            cols = [self.qids.index(int(c)) for c in self.passage_clf_.classes_]
            out[:, cols] = proba
        missing = [i for i, q in enumerate(self.qids) if self.basis_[q] == "codebook wording"]
        if missing:
            sims = vectors @ self.question_vectors_.T * self.wording_temperature
            sims = np.exp(sims - sims.max(axis=1, keepdims=True))
            sims /= sims.sum(axis=1, keepdims=True)
            out[:, missing] = sims[:, missing]
        return out

    def _pair_features(self, pq: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        n_q = len(self.qids)
        if pq.shape[0] == 0:
            return np.zeros((n_q, 8))
        top = _top_mean(pq)
        sims = vectors @ self.question_vectors_.T
        ranks = np.argsort(np.argsort(-top))
        argmax_share = (pq.argmax(axis=1)[:, None] == np.arange(n_q)).mean(axis=0)
        return np.column_stack([pq.max(axis=0), top, pq.mean(axis=0), sims.max(axis=0), _top_mean(sims),
                                argmax_share, np.log1p(ranks), np.full(n_q, np.log1p(pq.shape[0]))])

    def _priority_features(self, vectors: np.ndarray, section_scores: np.ndarray) -> np.ndarray:
        """(n_priorities, f): similarity with each priority's description + the document's section profile."""
        n_p = len(PRIORITIES)
        if vectors.shape[0] == 0:
            return np.zeros((n_p, 3 + section_scores.shape[0]))
        sims = vectors @ self.priority_vectors_.T
        mean = _unit(vectors.mean(axis=0))
        prof = section_scores / max(section_scores.sum(), 1e-9)
        return np.column_stack([sims.max(axis=0), _top_mean(sims), self.priority_vectors_ @ mean,
                                np.tile(prof, (n_p, 1))])

    def _section_profile(self, pq: np.ndarray) -> np.ndarray:
        top = _top_mean(pq) if pq.shape[0] else np.zeros(len(self.qids))
        secs = [q.section for q in self.codebook.questions]
        return np.array([top[[i for i, s in enumerate(secs) if s == sid]].sum()
                         for sid in self.section_ids])

    @property
    def section_ids(self) -> list[int]:
        return [s.id for s in self.codebook.sections] or sorted({q.section for q in self.codebook.questions})

    # -- fit --
    def fit(self, docs: Sequence[EmbeddedDocument], labels: Sequence[dict], *, answer_vectors: np.ndarray,
            answer_qids: Sequence[int], question_vectors: np.ndarray, priority_vectors: np.ndarray,
            passage_clf=None) -> DocumentCoder:
        """`passage_clf`: an answer-bank classifier already fitted on the same answers (cross-validation
        folds reuse it: it does not depend on the labelled documents)."""
        from sklearn.linear_model import LogisticRegression

        self.question_vectors_ = np.asarray(question_vectors, dtype=np.float32)
        self.priority_vectors_ = np.asarray(priority_vectors, dtype=np.float32)
        answer_qids = np.asarray(answer_qids, dtype=int)
        known = set(self.qids)
        keep = np.isin(answer_qids, list(known))
        answered = set(answer_qids[keep].tolist())
        labelled_q = {int(q) for lab in labels for q in lab.get("questions", [])}
        self.basis_ = {q: ("answers+documents" if q in answered and q in labelled_q else
                           "answers" if q in answered else "codebook wording") for q in self.qids}
        self.passage_clf_ = passage_clf
        if passage_clf is None and len(answered) >= 2:
            self.passage_clf_ = LogisticRegression(C=self.c_passage, max_iter=3000).fit(
                np.asarray(answer_vectors)[keep], answer_qids[keep])
        # Per-question decision, shared across questions.
        xs, ys, tx, ty, px, py = [], [], [], [], [], []
        type_names = list(DOC_TYPES)
        self.type_basis_ = {t: "lexicon" for t in type_names}
        pri_names = list(PRIORITIES)
        for doc, lab in zip(docs, labels, strict=True):
            pq = self.passage_question_scores(doc.vectors)
            xs.append(self._pair_features(pq, doc.vectors))
            truth = {int(q) for q in lab.get("questions", [])}
            ys.append(np.array([q in truth for q in self.qids], dtype=int))
            if lab.get("doc_type") in DOC_TYPES:
                self.type_basis_[lab["doc_type"]] = "lexicon+documents"
                tx.append(type_features(doc.text))
                ty.append(np.array([t == lab["doc_type"] for t in type_names], dtype=int))
            px.append(self._priority_features(doc.vectors, self._section_profile(pq)))
            py.append(np.array([p in lab.get("priorities", []) for p in pri_names], dtype=int))
        if not xs:
            raise InputError("no labelled documents to learn from")
        X, Y = np.vstack(xs), np.concatenate(ys)
        if Y.min() == Y.max():
            raise InputError("the labelled documents need at least one question label")
        self.pair_clf_ = LogisticRegression(C=self.c_pair, max_iter=3000).fit(X, Y)
        self.type_clf_ = None
        if tx:
            TX, TY = np.vstack(tx), np.concatenate(ty)
            self.type_clf_ = LogisticRegression(C=self.c_type, max_iter=3000).fit(TX, TY)
        PX, PY = np.stack(px), np.stack(py)
        self.priority_clfs_ = {}
        self.priority_basis_ = {}
        for j, name in enumerate(pri_names):
            y = PY[:, j]
            if 0 < y.sum() < len(y):
                self.priority_clfs_[name] = LogisticRegression(C=self.c_priority, max_iter=3000).fit(
                    PX[:, j, :], y)
                self.priority_basis_[name] = "documents"
            else:
                self.priority_basis_[name] = "description"
        return self

    # -- predict --
    def predict(self, doc: EmbeddedDocument) -> dict:
        """Codes for one document: type, sections, questions, priorities, with confidence and evidence."""
        pq = self.passage_question_scores(doc.vectors)
        q_prob = self.pair_clf_.predict_proba(self._pair_features(pq, doc.vectors))[:, 1]
        chosen = [i for i in np.argsort(-q_prob) if q_prob[i] >= self.question_threshold]
        if not chosen and len(doc.passages):
            chosen = [int(np.argmax(q_prob))]  # a document sent as evidence shows something; route decides
        questions = []
        for i in sorted(chosen, key=lambda i: self.qids[i]):
            qid = self.qids[i]
            j = int(np.argmax(pq[:, i]))
            questions.append({"code": qid, "confidence": round(float(q_prob[i]), 4),
                              "basis": self.basis_[qid], "evidence": self._evidence(doc, j, float(pq[j, i]))})
        # A section is evidenced when one of its questions is; its confidence is its best question's.
        sections = []
        secs = {q.id: q.section for q in self.codebook.questions}
        sec_prob = {sid: 0.0 for sid in self.section_ids}
        sec_best: dict[int, int] = {}
        for i, qid in enumerate(self.qids):
            if q_prob[i] > sec_prob[secs[qid]]:
                sec_prob[secs[qid]], sec_best[secs[qid]] = float(q_prob[i]), i
        chosen_secs = sorted({secs[self.qids[i]] for i in chosen})
        for sid in chosen_secs:
            i = sec_best[sid]
            j = int(np.argmax(pq[:, i]))
            sections.append({"code": sid, "confidence": round(sec_prob[sid], 4),
                             "basis": self.basis_[self.qids[i]], "via_question": self.qids[i],
                             "evidence": self._evidence(doc, j, float(pq[j, i]))})
        # Type.
        type_names = list(DOC_TYPES)
        tf = type_features(doc.text)
        if self.type_clf_ is not None:
            z = self.type_clf_.decision_function(tf)
        else:
            z = tf[:, 0] * 3 + tf[:, 2]
        p_type = np.exp(z - z.max())
        p_type /= p_type.sum()
        t = int(np.argmax(p_type))
        ev = _type_evidence(doc, type_names[t]) if doc.passages else None
        doc_type = {"code": type_names[t], "confidence": round(float(p_type[t]), 4),
                    "basis": self.type_basis_[type_names[t]],
                    "all": {n: round(float(p), 4) for n, p in zip(type_names, p_type, strict=True)},
                    "evidence": self._evidence(doc, ev, None) if ev is not None else None}
        # Priorities.
        pf = self._priority_features(doc.vectors, self._section_profile(pq))
        priorities = []
        p_pri = {}
        for j, name in enumerate(PRIORITIES):
            clf = self.priority_clfs_.get(name)
            if clf is not None:
                p = float(clf.predict_proba(pf[j:j + 1])[0, 1])
            else:  # no labelled example: the description's similarity, as a rough probability
                p = float(1 / (1 + np.exp(-(pf[j, 0] - 0.45) * 12)))
            p_pri[name] = p
        chosen_p = [n for n, p in p_pri.items() if p >= self.priority_threshold] or \
            ([max(p_pri, key=p_pri.get)] if doc.passages else [])
        sims = doc.vectors @ self.priority_vectors_.T if doc.passages else None
        for j, name in enumerate(PRIORITIES):
            if name in chosen_p:
                k = int(np.argmax(sims[:, j]))
                priorities.append({"code": name, "confidence": round(p_pri[name], 4),
                                   "basis": self.priority_basis_[name],
                                   "evidence": self._evidence(doc, k, float(sims[k, j]))})
        return {"doc_type": doc_type, "sections": sections, "questions": questions, "priorities": priorities,
                "scores": {"questions": {str(q): round(float(p), 4)
                                         for q, p in zip(self.qids, q_prob, strict=True)},
                           "sections": {str(s): round(p, 4) for s, p in sec_prob.items()},
                           "priorities": {n: round(p, 4) for n, p in p_pri.items()}}}

    @staticmethod
    def _evidence(doc: EmbeddedDocument, j: int, score: float | None) -> dict:
        p = doc.passages[j]
        out = {"page": p.page, "passage": j, "quote": p.text}
        if score is not None:
            out["score"] = round(score, 4)
        return out

    # -- persistence (skops: plain dicts of scikit-learn estimators and arrays, never pickle) --
    def state(self) -> dict:
        return {"params": {k: getattr(self, k) for k in ("c_passage", "c_pair", "c_type", "c_priority",
                                                          "question_threshold", "priority_threshold",
                                                          "wording_temperature")},
                "passage_clf": self.passage_clf_, "pair_clf": self.pair_clf_, "type_clf": self.type_clf_,
                "priority_clfs": self.priority_clfs_, "question_vectors": self.question_vectors_,
                "priority_vectors": self.priority_vectors_,
                "basis": {str(k): v for k, v in self.basis_.items()}, "type_basis": self.type_basis_,
                "priority_basis": self.priority_basis_}

    @classmethod
    def from_state(cls, state: dict, codebook: Codebook) -> DocumentCoder:
        self = cls(codebook, **state["params"])
        self.passage_clf_ = state["passage_clf"]
        self.pair_clf_ = state["pair_clf"]
        self.type_clf_ = state["type_clf"]
        self.priority_clfs_ = dict(state["priority_clfs"])
        self.question_vectors_ = np.asarray(state["question_vectors"], dtype=np.float32)
        self.priority_vectors_ = np.asarray(state["priority_vectors"], dtype=np.float32)
        self.basis_ = {int(k): v for k, v in state["basis"].items()}
        self.type_basis_ = dict(state["type_basis"])
        self.priority_basis_ = dict(state["priority_basis"])
        return self


def document_confidence(result: dict) -> float:
    """How sure the coding is as a whole: its least certain decision among the type, the questions it gives
    (their probability) and the questions it leaves out (one minus theirs). Priorities are shown with their
    own confidences but do not route: they are a summary over the questions."""
    scores = result["scores"]["questions"]
    chosen = {str(q["code"]) for q in result["questions"]}
    conf = [result["doc_type"]["confidence"]]
    conf += [q["confidence"] for q in result["questions"]]
    conf += [1 - p for q, p in scores.items() if q not in chosen]
    return float(min(conf))


# --- embedding, loading labelled data -------------------------------------------------------------------

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2:int8"


def make_embedder(name: str = DEFAULT_EMBEDDER):
    """The embedder a document model uses: `NAME` (coder.embed.Embedder) or `NAME:int8`, the same model
    with its linear layers quantised to 8 bits - about 2x faster on CPU, which a 4,000-page batch needs, for
    no loss on the labelled documents (see notes/README-docs.md). Both go through the embedding cache,
    under different fingerprints."""
    from coder.embed import Embedder

    try:  # the model's own "Loading weights" bar would break into ours
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass
    if name.endswith(":int8"):
        return _quantized_embedder_class()(name[: -len(":int8")])
    return Embedder(name)


def _quantized_embedder_class():
    from coder.embed import Embedder

    class QuantizedEmbedder(Embedder):
        @property
        def fingerprint(self) -> str:
            return Embedder.fingerprint.fget(self) + "-int8"

        @property
        def sentence_transformer(self):
            if self._st is None:
                import warnings

                import torch

                model = Embedder.sentence_transformer.fget(self)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self._st = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear},
                                                                      dtype=torch.qint8, inplace=True)
            return self._st

    return QuantizedEmbedder


def embed_document(passages: list[Passage], pages: int, embedder) -> EmbeddedDocument:
    vectors = embedder.encode([p.text for p in passages]) if passages else np.zeros((0, 384), np.float32)
    return EmbeddedDocument(passages, np.asarray(vectors, dtype=np.float32), pages)


def read_labels(path: str | Path, codebook: Codebook) -> list[dict]:
    """labels.csv (file, title, doc_type, sections, questions, priorities); files sit beside it."""
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read labels: {e}", file=str(path)) from None
    for col in ("file", "doc_type", "sections", "questions", "priorities"):
        if col not in df.columns:
            raise InputError("missing column", file=str(path), column=col)
    out = []
    for i, r in df.iterrows():
        row = int(i) + 2
        f = path.parent / r["file"]
        if not f.exists():
            raise InputError(f"document {r['file']!r} is not beside the labels file", file=str(path), row=row,
                             column="file")
        if r["doc_type"] not in DOC_TYPES:
            raise InputError(f"unknown doc_type {r['doc_type']!r}; one of {', '.join(DOC_TYPES)}",
                             file=str(path), row=row, column="doc_type")
        try:
            qs = [int(x) for x in _split(r["questions"])]
            secs = [int(x) for x in _split(r["sections"])]
            for q in qs:
                codebook.question(q)
        except (ValueError, KeyError) as e:
            raise InputError(f"bad question/section number ({e})", file=str(path), row=row) from None
        pris = _split(r["priorities"])
        for p in pris:
            if p not in PRIORITIES:
                raise InputError(f"unknown priority {p!r}; one of {', '.join(PRIORITIES)}", file=str(path),
                                 row=row, column="priorities")
        out.append({"file": f, "doc_type": r["doc_type"], "sections": secs, "questions": qs,
                    "priorities": pris})
    if not out:
        raise InputError("no labelled documents", file=str(path))
    return out


def _split(cell: str) -> list[str]:
    return [x.strip() for x in str(cell).split(";") if x.strip()]


def read_answers(path: str | Path, codebook: Codebook) -> tuple[list[str], list[int]]:
    """The answer bank: every written answer is evidence for its question (whatever its code)."""
    path = Path(path)
    texts, qids = [], []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise InputError(f"cannot read answers: {e.strerror}", file=str(path)) from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            qid, text = int(d["qid"]), str(d["text"])
        except (ValueError, KeyError, TypeError):
            raise InputError("not a JSON object with qid and text", file=str(path), row=n) from None
        if qid not in codebook.by_id or not text.strip():
            continue
        texts.append(text.replace("{AREA}", "the area").replace("{CCG}", "the CCG"))
        qids.append(qid)
    return texts, qids


def _file_hash(path: Path) -> str:
    return content_hash(path.read_bytes())


# --- training --------------------------------------------------------------------------------------------

def evaluate_loo(docs: list[EmbeddedDocument], labels: list[dict], codebook: Codebook, **fit_kw) -> dict:
    """Leave-one-document-out figures on the labelled documents (the answer bank is in every fold)."""
    n = len(docs)
    if fit_kw.get("passage_clf") is None:
        full = DocumentCoder(codebook).fit(docs, labels, **fit_kw)
        fit_kw = {**fit_kw, "passage_clf": full.passage_clf_}
    t_ok = 0
    tp = {"sections": 0, "questions": 0, "priorities": 0}
    n_true = dict.fromkeys(tp, 0)
    n_pred = dict.fromkeys(tp, 0)
    for i in range(n):
        tr = [j for j in range(n) if j != i]
        m = DocumentCoder(codebook).fit([docs[j] for j in tr], [labels[j] for j in tr], **fit_kw)
        r = m.predict(docs[i])
        t_ok += r["doc_type"]["code"] == labels[i]["doc_type"]
        for k in tp:
            pred = {c["code"] for c in r[k]}
            truth = set(labels[i][k])
            tp[k] += len(pred & truth)
            n_true[k] += len(truth)
            n_pred[k] += len(pred)
    out = {"documents": n, "type_accuracy": round(t_ok / n, 4)}
    for k in tp:
        p = tp[k] / n_pred[k] if n_pred[k] else 0.0
        r_ = tp[k] / n_true[k] if n_true[k] else 0.0
        out[f"{k}_micro_f1"] = round(2 * tp[k] / (n_pred[k] + n_true[k]), 4) if n_pred[k] + n_true[k] else 0.0
        out[f"{k}_precision"] = round(p, 4)
        out[f"{k}_recall"] = round(r_, 4)
    return out


def train(labels_path: str | Path, answers_path: str | Path, model_dir: str | Path, *,
          codebook: Codebook | None = None, embedder_name: str = DEFAULT_EMBEDDER, evaluate: bool = True,
          progress: Callable[[str, int, int], None] | None = None) -> dict:
    """Learn from labelled documents + the answer bank; save the model (skops) and a JSON manifest."""
    import skops.io as sio

    codebook = codebook or load_codebook()
    labels = read_labels(labels_path, codebook)
    texts, qids = read_answers(answers_path, codebook)
    embedder = make_embedder(embedder_name)
    docs = []
    for k, lab in enumerate(labels):
        data = lab["file"].read_bytes()
        try:
            passages, pages = prepare(data, lab["file"].suffix)
        except DocumentError as e:
            raise InputError(f"labelled document cannot be read: {e}", file=str(lab["file"])) from None
        docs.append(embed_document(passages, pages, embedder))
        if progress:
            progress("documents", k + 1, len(labels))
    answer_vectors = embedder.encode(texts, progress=(lambda d, t: progress("answers", d, t))
                                     if progress else None)
    question_vectors = embedder.encode([q.text for q in codebook.questions])
    priority_vectors = embedder.encode(list(PRIORITIES.values()))
    fit_kw = {"answer_vectors": answer_vectors, "answer_qids": qids, "question_vectors": question_vectors,
              "priority_vectors": priority_vectors}
    model = DocumentCoder(codebook).fit(docs, labels, **fit_kw)
    metrics = {}
    if evaluate and len(docs) >= 3:
        metrics = evaluate_loo(docs, labels, codebook, passage_clf=model.passage_clf_, **fit_kw)
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(model_dir / MODEL_FILE) as tmp:
        sio.dump(model.state(), tmp)
    data_hash = hashlib.sha256()
    for b in (Path(labels_path).read_bytes(), Path(answers_path).read_bytes()):
        data_hash.update(hashlib.sha256(b).digest())
    for lab in labels:
        data_hash.update(bytes.fromhex(_file_hash(lab["file"])))
    manifest = {
        "schema": SCHEMA, "kind": "coder-documents",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "codebook": codebook.name, "codebook_sha256": codebook.sha256, "codebook_path": codebook.path,
        "data_sha256": data_hash.hexdigest(),
        "embedder": embedder_name, "embedder_fingerprint": embedder.fingerprint,
        "labelled_documents": len(docs), "answers": len(texts),
        "model_file": MODEL_FILE,
        "model_sha256": _file_hash(model_dir / MODEL_FILE),
        "metrics_leave_one_out": metrics,
        "fallbacks": {"questions": {str(q): b for q, b in model.basis_.items() if b == "codebook wording"},
                      "priorities": {p: b for p, b in model.priority_basis_.items() if b == "description"},
                      "doc_types": {t: b for t, b in model.type_basis_.items() if b == "lexicon"}},
    }
    manifest["model_version"] = f"docs-{manifest['model_sha256'][:12]}"
    write_json_atomic(model_dir / MANIFEST_FILE, manifest)
    return manifest


def load_model(model_dir: str | Path, codebook: Codebook | None = None) -> tuple[DocumentCoder, dict]:
    """Load a trained document model; refuses files that hold anything but plain estimators and arrays."""
    import skops.io as sio

    model_dir = Path(model_dir)
    mpath = model_dir / MANIFEST_FILE
    if not mpath.exists():
        raise InputError("no document model here; run `coder docs train` first", file=str(model_dir))
    manifest = json.loads(mpath.read_text(encoding="utf-8"))
    if codebook is None:
        cb_path = Path(manifest.get("codebook_path") or "")
        codebook = load_codebook(cb_path) if cb_path.is_file() else load_codebook()
    if manifest.get("codebook_sha256") and codebook.sha256 and codebook.sha256 != manifest["codebook_sha256"]:
        raise InputError("the codebook changed since this model was trained; retrain", file=str(mpath))
    f = model_dir / manifest.get("model_file", MODEL_FILE)
    if _file_hash(f) != manifest.get("model_sha256"):
        raise InputError("model file does not match its manifest (modified or half-written)", file=str(f))
    untrusted = sio.get_untrusted_types(file=f)
    if untrusted:
        raise InputError(f"model file holds unexpected types: {', '.join(untrusted)}", file=str(f))
    state = sio.load(f, trusted=[])
    return DocumentCoder.from_state(state, codebook), manifest


# --- batch coding ------------------------------------------------------------------------------------------

@dataclass
class BatchOptions:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_pages: int = DEFAULT_MAX_PAGES
    review_below: float = 0.65
    workers: int = 1  # extraction processes running ahead of the embedder; 0 = in the main process
    prefetch: int = 4


@dataclass
class BatchSummary:
    documents: int = 0
    pages: int = 0
    passages: int = 0
    coded: int = 0
    skipped: int = 0
    errors: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    out: str = ""
    details: str = ""
    index: str = ""
    errors_by_kind: dict = field(default_factory=dict)

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def _progress_path(out: Path) -> Path:
    return out.with_name(out.name + ".progress.jsonl")


def _parts_dir(out: Path) -> Path:
    return out.with_name(out.name + ".parts")


def details_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_suffix(".json")


def index_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.stem + ".index.json")


def _read_progress(path: Path, model_version: str) -> dict[str, dict]:
    """Finished documents of an earlier (possibly crashed) run of the same model, by content hash."""
    done: dict[str, dict] = {}
    if not path.exists():
        return done
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # the line being written when the run died
            if rec.get("model_version") == model_version and rec.get("status") == "ok":
                rec.pop("passages", None)  # read again, streaming, when the index is written
                done[rec["sha256"]] = rec
    return done


def _jobs(files: list[Path], opts: BatchOptions,
          need: Callable[[Path], bool]) -> Iterator[tuple[Path, tuple]]:
    """Prepared documents in order, with extraction running `prefetch` documents ahead in worker processes."""
    todo = [f for f in files if need(f)]
    if opts.workers <= 0:
        for f in todo:
            yield f, prepare_job(str(f), opts.max_bytes, opts.max_pages)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(max_workers=opts.workers, mp_context=ctx) as pool:
        pending: list[tuple[Path, object]] = []
        it = iter(todo)
        for f in it:
            pending.append((f, pool.submit(prepare_job, str(f), opts.max_bytes, opts.max_pages)))
            if len(pending) >= opts.prefetch:
                break
        while pending:
            f, fut = pending.pop(0)
            nxt = next(it, None)
            if nxt is not None:
                pending.append((nxt, pool.submit(prepare_job, str(nxt), opts.max_bytes, opts.max_pages)))
            try:
                res = fut.result()
            except Exception as e:  # noqa: BLE001 - a worker that died on one file
                res = ("", "corrupt", 0, f"cannot read the document ({type(e).__name__})")
            yield f, res


def code_folder(input_dir: str | Path, model_dir: str | Path, out: str | Path, *,
                options: BatchOptions | None = None, embedder=None,
                on_start: Callable[[int, int], None] | None = None,
                on_document: Callable[[dict], None] | None = None) -> BatchSummary:
    """Code every document under `input_dir`; resumable; bad documents get error rows.

    Writes `out` (CSV, one row per file), `out` with .json (per-code confidences and evidence), and
    `<stem>.index.json` + `.npy` (passages and vectors for `search`). While running, each finished document is
    one line of `<out>.progress.jsonl` (its vectors in `<out>.parts/`), so a crash loses at most the document
    in hand and a re-run skips what is done.
    """
    opts = options or BatchOptions()
    input_dir, out = Path(input_dir), Path(out)
    if not input_dir.is_dir():
        raise InputError("not a folder", file=str(input_dir))
    model, manifest = load_model(model_dir)
    version = manifest["model_version"]
    embedder = embedder or make_embedder(manifest.get("embedder", DEFAULT_EMBEDDER))
    files = list_documents(input_dir)
    progress_file = _progress_path(out)
    parts = _parts_dir(out)
    parts.mkdir(parents=True, exist_ok=True)
    done = {k: v for k, v in _read_progress(progress_file, version).items() if (parts / f"{k}.npy").exists()}
    summary = BatchSummary(documents=len(files))
    if on_start:
        on_start(len(files), len(done))
    t0 = time.perf_counter()
    records: dict[Path, dict] = {}

    # Hash first, cheaply, to skip finished documents without extracting them again.
    hashes: dict[Path, str] = {}
    for f in files:
        try:
            if f.stat().st_size <= opts.max_bytes:
                hashes[f] = content_hash(f.read_bytes())
        except OSError:
            pass
    for f in files:
        h = hashes.get(f)
        if h and h in done:
            records[f] = done[h]
            summary.skipped += 1
            if on_document:
                on_document({**done[h], "skipped": True})

    # Content seen twice in one batch (copies under two names) is coded once.
    first_of: dict[str, Path] = {}
    for f in files:
        h = hashes.get(f)
        if h and f not in records:
            first_of.setdefault(h, f)

    def need(f: Path) -> bool:
        h = hashes.get(f)
        return f not in records and (h is None or first_of.get(h) == f)

    _end_with_newline(progress_file)  # a run that died mid-line left half a record: start on a new line
    with open(progress_file, "a", encoding="utf-8") as log:
        for f, (sha, kind, size, payload) in _jobs(files, opts, need):
            if kind:
                rec = {"sha256": sha, "status": "error", "error_kind": kind, "error": f"{kind}: {payload}",
                       "model_version": version, "bytes": size}
                summary.errors += 1
                summary.errors_by_kind[kind] = summary.errors_by_kind.get(kind, 0) + 1
            else:
                items, pages = payload
                passages = [Passage(pg, tx) for pg, tx in items]
                te = time.perf_counter()
                doc = embed_document(passages, pages, embedder)
                summary.embed_seconds += time.perf_counter() - te
                result = model.predict(doc)
                conf = document_confidence(result)
                rec = {"sha256": sha, "status": "ok", "model_version": version, "bytes": size, "pages": pages,
                       "n_passages": len(passages), "confidence": round(conf, 4),
                       "route": "auto" if conf >= opts.review_below else "review", **result,
                       "passages": items}
                with atomic_path(parts / f"{sha}.npy") as tmp:
                    with open(tmp, "wb") as fh:
                        np.save(fh, doc.vectors.astype(np.float16))
                summary.coded += 1
                summary.pages += pages
                summary.passages += len(passages)
            log.write(json.dumps(rec, ensure_ascii=False) + "\n")
            log.flush()
            os.fsync(log.fileno())
            rec.pop("passages", None)
            records[f] = rec
            if summary.coded % 10 == 0:
                _release_memory()
            if on_document:
                on_document({**rec, "file": str(f.relative_to(input_dir))})

    # Copies of an already-coded content.
    for f in files:
        if f not in records:
            h = hashes.get(f)
            if h and first_of.get(h) in records:
                records[f] = records[first_of[h]]
    summary.seconds = time.perf_counter() - t0
    for f, rec in records.items():  # the route follows this run's threshold, also for documents done before
        if rec.get("status") == "ok":
            records[f] = {**rec, "route": "auto" if rec["confidence"] >= opts.review_below else "review"}
    _write_outputs(input_dir, files, records, out, parts, manifest, summary, progress_file)
    return summary


def _end_with_newline(path: Path) -> None:
    if path.exists() and path.stat().st_size:
        with open(path, "rb+") as fh:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                fh.write(b"\n")


def _release_memory() -> None:
    """Hand freed heap back to the OS (glibc keeps it otherwise, and a long batch's memory only grows)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _passages_from_progress(path: Path, model_version: str, wanted: set[str]) -> dict[str, list]:
    out: dict[str, list] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if '"status": "ok"' not in line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if rec.get("model_version") == model_version and rec.get("sha256") in wanted:
                out[rec["sha256"]] = rec.get("passages", [])
    return out


def _row(rel: str, rec: dict) -> dict:
    if rec.get("status") != "ok":
        return {"file": rel, "status": "error", "error": rec.get("error", ""), "doc_type": "",
                "doc_type_confidence": "", "sections": "", "questions": "", "priorities": "",
                "route": "review"}
    return {"file": rel, "status": "ok", "error": "", "doc_type": rec["doc_type"]["code"],
            "doc_type_confidence": round(rec["doc_type"]["confidence"], 3),
            "sections": ";".join(str(s["code"]) for s in rec["sections"]),
            "questions": ";".join(str(q["code"]) for q in rec["questions"]),
            "priorities": ";".join(p["code"] for p in rec["priorities"]), "route": rec["route"]}


def _write_outputs(input_dir: Path, files: list[Path], records: dict[Path, dict], out: Path, parts: Path,
                   manifest: dict, summary: BatchSummary, progress_file: Path) -> None:
    rows, details, index_meta, vecs = [], [], [], []
    wanted = {r["sha256"] for r in records.values() if r.get("status") == "ok"}
    passages = _passages_from_progress(progress_file, manifest["model_version"], wanted)
    seen_index: set[str] = set()
    for f in files:
        rel = f.relative_to(input_dir).as_posix()
        rec = records[f]
        rows.append(_row(rel, rec))
        d = {k: v for k, v in rec.items() if k not in ("passages",)}
        d["file"] = rel
        details.append(d)
        if rec.get("status") == "ok" and rec["sha256"] not in seen_index:
            seen_index.add(rec["sha256"])
            v = np.load(parts / f"{rec['sha256']}.npy")
            vecs.append(v)
            for j, (page, text) in enumerate(passages[rec["sha256"]]):
                index_meta.append({"file": rel, "sha256": rec["sha256"], "page": page, "passage": j,
                                   "text": text})
    df = pd.DataFrame(rows, columns=CSV_COLUMNS)
    with atomic_path(out) as tmp:
        df.to_csv(tmp, index=False)
    summary.out = str(out)
    dpath = details_path(out)
    write_json_atomic(dpath, {"model_version": manifest["model_version"], "codebook": manifest["codebook"],
                              "embedder": manifest["embedder"], "fallbacks": manifest.get("fallbacks", {}),
                              "documents": details})
    summary.details = str(dpath)
    ipath = index_path(out)
    vec_path = ipath.with_suffix(".npy")
    matrix = np.vstack(vecs).astype(np.float16) if vecs else np.zeros((0, 384), np.float16)
    with atomic_path(vec_path) as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, matrix)
    write_json_atomic(ipath, {"model_version": manifest["model_version"], "embedder": manifest["embedder"],
                              "vectors": vec_path.name, "passages": index_meta})
    summary.index = str(ipath)


def remember_index(model_dir: str | Path, index: str | Path) -> None:
    """Let `coder docs search` find the latest coded batch without --index."""
    write_text_atomic(Path(model_dir) / "last-index.txt", str(Path(index).resolve()) + "\n")


# --- search ------------------------------------------------------------------------------------------------

def search(query: str, model_dir: str | Path, index: str | Path | None = None, k: int = 10,
           embedder=None) -> list[dict]:
    """Passages of the coded documents most similar to `query` (cosine), best first."""
    if not query.strip():
        raise InputError("empty query")
    model_dir = Path(model_dir)
    if index is None:
        pointer = model_dir / "last-index.txt"
        if not pointer.exists():
            raise InputError("no index: run `coder docs code` first or give --index", file=str(model_dir))
        index = pointer.read_text(encoding="utf-8").strip()
    index = Path(index)
    if not index.exists():
        raise InputError("index not found", file=str(index))
    meta = json.loads(index.read_text(encoding="utf-8"))
    vectors = np.load(index.with_name(meta["vectors"])).astype(np.float32)
    embedder = embedder or make_embedder(meta.get("embedder", DEFAULT_EMBEDDER))
    q = embedder.encode([query])[0]
    if vectors.shape[0] == 0:
        return []
    sims = vectors @ q
    top = np.argsort(-sims)[:k]
    return [{**meta["passages"][i], "score": round(float(sims[i]), 4)} for i in top]


# --- the review queue hand-off -----------------------------------------------------------------------------

REVIEW_COLUMNS = ["file", "sha256", "field", "suggested", "confidence", "route", "model_version", "page",
                  "evidence", "basis"]


def review_rows(details: dict | str | Path, only_review: bool = True) -> pd.DataFrame:
    """Documents' review rows: one row per (document, field) with the suggestion, its confidence and evidence.

    `details` is the JSON `coder docs code` writes beside its CSV (or its parsed content). Error documents are
    left out (there is nothing to suggest); routed-to-review documents only, unless `only_review=False`.
    """
    if not isinstance(details, dict):
        details = json.loads(Path(details).read_text(encoding="utf-8"))
    rows = []
    for d in details["documents"]:
        if d.get("status") != "ok" or (only_review and d.get("route") != "review"):
            continue
        base = {"file": d["file"], "sha256": d["sha256"], "route": d["route"],
                "model_version": d["model_version"]}
        t = d["doc_type"]
        ev = t.get("evidence") or {}
        rows.append({**base, "field": "doc_type", "suggested": t["code"], "confidence": t["confidence"],
                     "page": ev.get("page"), "evidence": ev.get("quote", ""), "basis": t["basis"]})
        for fld in ("sections", "questions", "priorities"):
            for item in d[fld]:
                ev = item.get("evidence") or {}
                rows.append({**base, "field": fld, "suggested": str(item["code"]),
                             "confidence": item["confidence"], "page": ev.get("page"),
                             "evidence": ev.get("quote", ""), "basis": item["basis"]})
    return pd.DataFrame(rows, columns=REVIEW_COLUMNS)


LABEL_CONFIG = """<View>
  <Header value="$heading"/>
  <Text name="text" value="$text"/>
  <Choices name="doc_type" toName="text" choice="single" showInline="true">
    {types}
  </Choices>
  <Choices name="sections" toName="text" choice="multiple" showInline="true">
    {sections}
  </Choices>
  <Choices name="questions" toName="text" choice="multiple" showInline="true">
    {questions}
  </Choices>
  <Choices name="priorities" toName="text" choice="multiple" showInline="true">
    {priorities}
  </Choices>
</View>"""


def label_config(codebook: Codebook | None = None) -> str:
    """A Label Studio labelling config for documents (one task per document, four choice groups)."""
    codebook = codebook or load_codebook()

    def choices(values: Sequence[str]) -> str:
        return "\n    ".join(f'<Choice value="{v}"/>' for v in values)

    return LABEL_CONFIG.format(types=choices(list(DOC_TYPES)),
                               sections=choices([str(s) for s in [s.id for s in codebook.sections]]),
                               questions=choices([str(q.id) for q in codebook.questions]),
                               priorities=choices(list(PRIORITIES)))


def label_studio_tasks(details: dict | str | Path, only_review: bool = True,
                       max_chars: int = 6000) -> list[dict]:
    """Label Studio tasks with the model's codes as a prediction (for `ls.projects.import_tasks`).

    The task text is the evidence passages with their pages, so a reviewer sees why each code was suggested.
    """
    if not isinstance(details, dict):
        details = json.loads(Path(details).read_text(encoding="utf-8"))
    tasks = []
    for d in details["documents"]:
        if d.get("status") != "ok" or (only_review and d.get("route") != "review"):
            continue
        quotes, seen = [], set()
        for fld in ("doc_type", "questions", "priorities"):
            items = [d[fld]] if fld == "doc_type" else d[fld]
            for item in items:
                ev = item.get("evidence") or {}
                key = ev.get("passage")
                if key is None or key in seen:
                    continue
                seen.add(key)
                quotes.append(f"[p. {ev['page']}] {ev['quote']}")
        text = "\n\n".join(quotes)[:max_chars]
        result = [{"from_name": "doc_type", "to_name": "text", "type": "choices",
                   "value": {"choices": [d["doc_type"]["code"]]}}]
        for fld in ("sections", "questions", "priorities"):
            if d[fld]:
                result.append({"from_name": fld, "to_name": "text", "type": "choices",
                               "value": {"choices": [str(x["code"]) for x in d[fld]]}})
        tasks.append({"data": {"key": document_task_key(d["sha256"]), "heading": d["file"], "file": d["file"],
                               "sha256": d["sha256"], "text": text, "confidence": d["confidence"],
                               "model_version": d["model_version"]},
                      "predictions": [{"model_version": d["model_version"], "score": d["confidence"],
                                       "result": result}]})
    tasks.sort(key=lambda t: t["data"]["confidence"])  # least confident first, as coder.review queues answers
    return tasks


def document_task_key(sha256: str) -> str:
    """A document's task key in Label Studio (data.key, as coder.review uses for answers): its content, so
    a re-push never queues the same document twice, whatever it is called."""
    return f"doc|{sha256}"
