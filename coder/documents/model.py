"""The document coder: type, stocktake sections and questions, national priorities, each with a confidence
and the passage that best supports it.

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
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coder.codebook import Codebook
from coder.documents.passages import Passage
from coder.documents.vocab import DOC_TYPES, PRIORITIES
from coder.errors import InputError


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
                **self._all_evidence(doc, pq, sims, sec_best),
                "scores": {"questions": {str(q): round(float(p), 4)
                                         for q, p in zip(self.qids, q_prob, strict=True)},
                           "sections": {str(s): round(p, 4) for s, p in sec_prob.items()},
                           "priorities": {n: round(p, 4) for n, p in p_pri.items()}}}

    def _all_evidence(self, doc: EmbeddedDocument, pq: np.ndarray, sims: np.ndarray | None,
                      sec_best: dict[int, int]) -> dict:
        """The best passage for *every* code, chosen or not (a reviewer asked about a code the model left
        out needs to see why it might apply), and each cited passage's text once (`quotes`)."""
        if not doc.passages:
            return {"evidence_all": {"questions": {}, "sections": {}, "priorities": {}}, "quotes": {}}
        best_q = pq.argmax(axis=0)
        ev_q = {str(q): [int(best_q[i]), round(float(pq[best_q[i], i]), 4)] for i, q in enumerate(self.qids)}
        ev_s = {str(s): ev_q[str(self.qids[i])] for s, i in sec_best.items()}
        best_p = sims.argmax(axis=0)
        ev_p = {n: [int(best_p[j]), round(float(sims[best_p[j], j]), 4)] for j, n in enumerate(PRIORITIES)}
        cited = {j for group in (ev_q, ev_s, ev_p) for j, _ in group.values()}
        quotes = {str(j): {"page": doc.passages[j].page, "quote": doc.passages[j].text} for j in sorted(cited)}
        return {"evidence_all": {"questions": ev_q, "sections": ev_s, "priorities": ev_p}, "quotes": quotes}

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
                "priority_basis": self.priority_basis_, "heldout": getattr(self, "heldout_", None)}

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
        self.heldout_ = state.get("heldout")  # held-out decisions the field routing is calibrated on
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
