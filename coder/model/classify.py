"""The code classifier: a stance model shared by every question, times two per-question heads.

Each question has only a few dozen distinct written answers, so per-question models alone are weak.
Most questions use the same kinds of code (No / Yes / Not clear / In process ...), so one model learns
the answer's *stance* from every question at once (TF-IDF words and characters: stance lives in words like
"not yet", "agreed", "under review"), and small per-question heads, one over sentence embeddings and one
over the same TF-IDF words, tell apart codes of the same stance and the question's own codes. They are
multiplied (a product of experts; the word head's exponent `w` is `word_head_weight`):

    P(code | answer, q) ∝ P_stance(stance(code)) / n_q(stance(code)) × P_head(code) × P_words(code)^w

Multi-code questions (`multi: true`) get one class-balanced binary model per code over both kinds of features.
Calibration and thresholds live in `coder.model.calibrate` and `coder.model.route`; this module only scores.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from coder.codebook import Codebook, format_codes
from coder.model.answers import Answers
from coder.model.experts import EPS, fit_head, fit_word_head, head_matrix, mix_rows, word_head_matrix
from coder.model.features import long_answers, mark_negation, normalise_text, strip_question
from coder.model.leads import lead_clauses, with_leads
from coder.model.novelty import NoveltyModel
from coder.model.sentences import embed_whole, tails, with_sentences, word_count
from coder.model.short import ShortStanceModel, is_short
from coder.model.status import plan_stance, status_parts


def codebook_spec(cb: Codebook) -> dict[str, dict]:
    """The plain-data view of a codebook the estimator needs (so the saved model holds no custom types)."""
    return {str(q.id): {"codes": list(q.code_values), "stances": [c.stance for c in q.codes], "multi": q.multi,
                        "text": q.text, "labels": [c.label for c in q.codes]}
            for q in cb.questions}


def codebook_params(cb: Codebook, params: dict | None = None) -> dict:
    """Classifier parameters with what the codebook supplies filled in: its `stance_examples`, unless the
    parameters name their own (`"codebook"`, as a saved model's manifest records them, means the codebook's)."""
    out = dict(params or {})
    if out.get("stance_examples", "codebook") == "codebook":
        out["stance_examples"] = cb.stance_example_map or None
    return out


class CodeClassifier(BaseEstimator):
    """Scores every code of each answer's question.

    Parameters
    ----------
    spec : dict
        `codebook_spec(codebook)`: per question its codes, their stances and whether it is multi-code.
    stance_C, head_C, multi_C : float
        Inverse regularisation of the stance model, the per-question heads and the multi-code models.
    multi_class_weight : str or None
        Class weights of the multi-code questions' per-code models. "balanced": most codes are named by a
        minority of answers, and unweighted models missed them (ninth pass, README).
    head_weight : float
        Exponent on the head in the product of experts (0 = stance only).
    char_max_features : int
        Size of the character n-gram vocabulary of the stance model.
    negation : bool
        The stance model's words also see negation scopes (`features.mark_negation`). Off: it raised accuracy
        but made confidence on answers in other styles less honest (README, "Answers in other styles").
    strip_questions : bool
        Score answers without a leading restatement of the question (`features.strip_question`).
    chunk_words : int
        Answers longer than this are embedded as the mean of pieces of at most this many words, so the
        end of a long answer is read (the embedder truncates at 256 word pieces); 0 = off.
    stance_examples : dict or None
        Generic short answers per stance (`stance -> [answers]`, the codebook's `stance_examples`), for
        the short-answer stance model.
    short_words : int
        Answers of at most this many words take their stance from `coder.model.short.ShortStanceModel`
        (short training answers + `stance_examples`), mixed with the shared stance model by
        `short_weight` (1 = the short model alone); 0 = off.
    tail_weight, tail_over, tail_words : float, int, int
        Answers over `tail_over` words also take the stance of their last sentences (at least `tail_words`
        words, `sentences.tails`), mixed with the whole answer's in log space by `tail_weight`: a status
        stated after paragraphs of background counts (0 = off).
    lead_weight : float
        The short status clause many training answers open with ("Working on it - tender out now"), as an
        extra short training answer with the whole answer's code (`coder.model.leads`), for the
        per-question heads at this weight and for the short-answer stance model; 0 = off. The heads use
        the clauses' embeddings, which `prepare(X, embedder, training=True)` adds.
    rag_weight : float
        Answers pasted as action-plan rows (`Task | Owner | Due | AMBER - ...`) also take the stance their
        status cells state (`coder.model.status.plan_stance`: amber -> in progress, green / complete ->
        yes or already completed, "not started" -> no), mixed in log space by this weight (0 = off).
    status_weight, contrast_weight, short_within : float
        Measured and kept off (README, "Answers in other styles"): the stance of plan status cells read
        by the stance model instead of `plan_stance`; the stance of the clause after *but / although /
        in practice* (`status.contrast_clause`); for short answers, a head that may only share each
        stance's probability among that stance's codes (1) rather than move it between stances (0).
    word_head_weight, word_head_C : float
        Exponent on each question's word head (logistic regression over the stance model's TF-IDF words and
        characters, fitted on that question's answers alone; 0 = off) and its inverse regularisation.
    novelty : bool
        Keep what `novel` needs: the training answers' embeddings (`coder.model.novelty`).
    normalise, augment, label_examples, sentence_weight, sentence_focus, long_words, sentence_embed,
    random_state
        Ideas measured on the style-shift set and kept off by default (no net gain; README, "Answers in
        other styles"): shorthand normalisation, synthetic long training answers for the stance model,
        code labels as terse stance examples, and sentence-by-sentence pooling of answers over
        `long_words` words.
    """

    def __init__(self, spec: dict | None = None, stance_C: float = 16.0, head_C: float = 16.0,
                 multi_C: float = 64.0, head_weight: float = 1.0, char_max_features: int = 30000,
                 negation: bool = False, normalise: bool = False, augment: int = 0,
                 sentence_weight: float = 0.0, sentence_focus: float = 4.0, long_words: int = 40,
                 sentence_embed: bool = False, strip_questions: bool = True, label_examples: bool = False,
                 novelty: bool = True, chunk_words: int = 150, stance_examples: dict | None = None,
                 short_words: int = 6, short_weight: float = 1.0, tail_weight: float = 0.5, tail_over: int = 100,
                 tail_words: int = 40, lead_weight: float = 0.5, rag_weight: float = 0.5,
                 status_weight: float = 0.0, contrast_weight: float = 0.0, short_within: float = 0.0,
                 word_head_weight: float = 2.0, word_head_C: float = 4.0, multi_class_weight: str | None = "balanced",
                 random_state: int = 0) -> None:
        self.spec = spec
        self.stance_C = stance_C
        self.head_C = head_C
        self.multi_C = multi_C
        self.head_weight = head_weight
        self.char_max_features = char_max_features
        self.negation = negation
        self.normalise = normalise
        self.augment = augment
        self.sentence_weight = sentence_weight
        self.sentence_focus = sentence_focus
        self.long_words = long_words
        self.sentence_embed = sentence_embed
        self.strip_questions = strip_questions
        self.label_examples = label_examples
        self.novelty = novelty
        self.chunk_words = chunk_words
        self.stance_examples = stance_examples
        self.short_words = short_words
        self.short_weight = short_weight
        self.tail_weight = tail_weight
        self.tail_over = tail_over
        self.tail_words = tail_words
        self.lead_weight = lead_weight
        self.status_weight = status_weight
        self.contrast_weight = contrast_weight
        self.rag_weight = rag_weight
        self.short_within = short_within
        self.word_head_weight = word_head_weight
        self.word_head_C = word_head_C
        self.multi_class_weight = multi_class_weight
        self.random_state = random_state

    def prepare(self, X: Answers, embedder=None, training: bool = False) -> Answers:
        """Add what this classifier reads beyond one vector per answer: answers without a restated
        question, long answers embedded in pieces, the sentences of long answers when sentence pooling is
        on, and for `training` answers their lead clauses' embeddings (`embedder.encode`, cached)."""
        if getattr(self, "strip_questions", False):
            stripped = [strip_question(t, self.spec.get(str(q), {}).get("text", ""))
                        for t, q in zip(X.texts, X.qids, strict=True)]
            changed = [i for i, (a, b) in enumerate(zip(X.texts, stripped, strict=True)) if a != b]
            if changed:
                X.texts = stripped
                if embedder is not None:
                    X.emb = X.emb.copy()
                    X.emb[changed] = embedder.encode([stripped[i] for i in changed])
        if getattr(self, "chunk_words", 0):
            embed_whole(X, embedder, self.chunk_words)
        if getattr(self, "sentence_weight", 0.0) > 0 and X.sentences is None:
            with_sentences(X, embedder if self.sentence_embed else None, self.long_words)
        if training and self._leads_on() and X.lead_emb is None:
            with_leads(X, embedder, self.short_words)
        return X

    def short_answers(self, X: Answers) -> np.ndarray:
        """True for the answers this classifier scores as short (its short-answer models and calibration)."""
        return is_short(X.texts, getattr(self, "short_words", 0))

    def _leads_on(self) -> bool:
        return getattr(self, "lead_weight", 0.0) > 0 and getattr(self, "short_words", 0) > 0

    # -- features -------------------------------------------------------------------------------------
    def _tfidf(self, texts: Sequence[str]) -> sparse.csr_matrix:
        if getattr(self, "normalise", False):
            texts = [normalise_text(t) for t in texts]
        parts = [self.word_.transform(self._word_texts(texts))]
        if self.char_ is not None:
            parts.append(self.char_.transform(texts))
        return sparse.hstack(parts).tocsr()

    def _word_texts(self, texts: Sequence[str]) -> Sequence[str]:
        """What the word vectorizer reads: negation scopes marked (models saved before `negation`: as is)."""
        return [mark_negation(t) for t in texts] if getattr(self, "negation", False) else texts

    # -- fitting --------------------------------------------------------------------------------------
    def fit(self, X: Answers, y: Sequence[str]) -> CodeClassifier:
        """Fit on answers and their canonical codes (`1`, `2;5`); blank answers must be left out."""
        if not self.spec:
            raise ValueError("CodeClassifier needs spec=codebook_spec(codebook)")
        y = np.asarray(list(y), dtype=object)
        if len(y) != len(X):
            raise ValueError("X and y differ in length")
        self.word_ = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, lowercase=True)
        self.char_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=3,
                                     max_features=self.char_max_features) if self.char_max_features else None
        texts = [normalise_text(t) for t in X.texts] if self.normalise else X.texts
        for vec, vec_texts in ((self.word_, self._word_texts(texts)), (self.char_, texts)):
            if vec is not None:
                vec.fit(vec_texts)
                # plain ints: skops stores a numpy scalar as its own file, which made loading take seconds
                vec.vocabulary_ = {term: int(i) for term, i in vec.vocabulary_.items()}
        T = self._tfidf(X.texts)

        is_multi = np.array([self.spec[str(q)]["multi"] for q in X.qids])
        stance_y = np.array([self._stance_of(q, c) for q, c in zip(X.qids, y, strict=True)], dtype=object)
        single = np.flatnonzero(~is_multi)
        classes = sorted(set(stance_y[single]))
        if len(classes) >= 2:
            Ts, ys = T[single], stance_y[single]
            if self.augment:
                extra, extra_y = long_answers([X.texts[i] for i in single], X.qids[single], ys,
                                              self.augment, self.random_state)
                Ts, ys = sparse.vstack([Ts, self._tfidf(extra)]).tocsr(), np.r_[ys, extra_y]
            if self.label_examples:  # each code's label is a (terse) answer of that code's stance
                lab = [(lbl, st) for q in sorted(set(X.qids.tolist())) if not self.spec[str(q)]["multi"]
                       for lbl, st in zip(self.spec[str(q)].get("labels", []), self.spec[str(q)]["stances"],
                                          strict=True)]
                if lab:
                    Ts = sparse.vstack([Ts, self._tfidf([a for a, _ in lab])]).tocsr()
                    ys = np.r_[ys, np.array([b for _, b in lab], dtype=object)]
            # newton-cg reaches the same optimum as lbfgs here several times faster (few, wide classes)
            self.stance_ = LogisticRegression(C=self.stance_C, max_iter=500, solver="newton-cg").fit(Ts, ys)
        else:
            self.stance_ = classes[0] if classes else "other"
        self.short_ = None
        if self.stance_examples is not None and not isinstance(self.stance_examples, dict):
            raise ValueError("stance_examples must map a stance to short answers; "
                             "`codebook_params(codebook, params)` fills in the codebook's")
        if getattr(self, "short_words", 0) and not isinstance(self.stance_, str):
            texts, stances = [X.texts[i] for i in single], list(stance_y[single])
            if self._leads_on():
                leads = X.leads if X.leads is not None else lead_clauses(X.texts, self.short_words)
                texts += [leads[i] for i in single if leads[i]]
                stances += [stance_y[i] for i in single if leads[i]]
            self.short_ = ShortStanceModel(self.short_words).fit(texts, stances, self.stance_examples)

        self.heads_: dict[str, object] = {}
        self.short_heads_: dict[str, LogisticRegression] = {}
        self.word_heads_: dict[str, tuple[np.ndarray, LogisticRegression]] = {}
        self.multi_heads_: dict[str, dict[str, object]] = {}
        with warnings.catch_warnings():
            # few answers per question is the normal case here, not a sign of a regression target
            warnings.filterwarnings("ignore", message="The number of unique classes is greater than 50%")
            self._fit_heads(X, y, T)
        self.novelty_ = NoveltyModel().fit(X.emb, np.array([word_count(t) for t in X.texts])) \
            if self.novelty else None
        return self

    def novel(self, X: Answers) -> np.ndarray:
        """True for answers unlike anything in training (`coder.model.novelty`); models saved before
        novelty was measured call nothing novel."""
        if getattr(self, "novelty_", None) is None or len(X) == 0:
            return np.zeros(len(X), dtype=bool)
        return self.novelty_.is_novel(X.emb, np.array([word_count(t) for t in X.texts]))

    def _fit_heads(self, X: Answers, y: np.ndarray, T: sparse.csr_matrix) -> None:
        for qid in sorted(set(X.qids.tolist())):
            rows = np.flatnonzero(X.qids == qid)
            spec = self.spec[str(qid)]
            if spec["multi"]:
                self.multi_heads_[str(qid)] = self._fit_multi(spec, X.emb[rows], T[rows], y[rows])
            else:
                labels = y[rows]
                if len(set(labels)) < 2:
                    self.heads_[str(qid)] = str(labels[0])
                    continue
                self.heads_[str(qid)] = fit_head(X.emb[rows], labels, self.head_C)
                if self.word_head_weight > 0:
                    self.word_heads_[str(qid)] = fit_word_head(T[rows], labels, self.word_head_C)
                extra = [i for i in rows if X.leads[i]] \
                    if X.lead_emb is not None and X.leads is not None and self._leads_on() else []
                if extra:  # short answers' head: the same answers plus their lead clauses
                    self.short_heads_[str(qid)] = fit_head(
                        np.vstack([X.emb[rows], X.lead_emb[extra]]), np.r_[labels, y[extra]], self.head_C,
                        np.r_[np.ones(len(rows)), np.full(len(extra), self.lead_weight)])

    def _stance_of(self, qid: int, codes: str) -> str:
        spec = self.spec[str(qid)]
        if spec["multi"]:
            return "multi"
        return spec["stances"][spec["codes"].index(codes)]

    def _fit_multi(self, spec: dict, emb: np.ndarray, T: sparse.csr_matrix, y: np.ndarray) -> dict[str, object]:
        F = sparse.hstack([T, sparse.csr_matrix(emb)]).tocsr()
        heads: dict[str, object] = {}
        sets = [set(v.split(";")) for v in y]
        for code in spec["codes"]:
            target = np.array([code in s for s in sets])
            if target.all() or not target.any():
                heads[code] = float(target.mean()) if len(target) else 0.0
            else:
                heads[code] = LogisticRegression(C=self.multi_C, max_iter=2000, solver="liblinear",
                                                class_weight=self.multi_class_weight).fit(F, target)
        return heads

    # -- scoring --------------------------------------------------------------------------------------
    def predict_proba(self, X: Answers) -> list[dict[str, float]]:
        """Per answer, the probability of each code of its question.

        Single-code questions: a distribution over the codes (sums to 1). Multi-code questions: each code's
        own probability of applying.
        """
        if not hasattr(self, "heads_"):
            raise NotFittedError("CodeClassifier is not fitted")
        out: list[dict[str, float] | None] = [None] * len(X)
        if len(X) == 0:
            return []
        T = self._tfidf(X.texts)
        stance_classes, P = self._stance_proba(T)
        P = self._short_stance(X.texts, P, stance_classes)
        P = self._tail_stance(X.texts, P)
        P = self._status_stance(X.texts, P)
        short_all = self.short_answers(X)
        for qid in sorted(set(X.qids.tolist())):
            rows = np.flatnonzero(X.qids == qid)
            spec = self.spec.get(str(qid))
            if spec is None:
                raise ValueError(f"question {qid} is not in the model's codebook")
            if spec["multi"]:
                probs = self._proba_multi(str(qid), spec, X.emb[rows], T[rows])
            else:
                short = short_all[rows]
                within = short if getattr(self, "short_within", False) else None
                S = self._product(str(qid), spec, X.emb[rows], P[rows], stance_classes, within, short, T[rows])
                if getattr(self, "sentence_weight", 0.0) > 0 and X.sentences is not None:
                    S = self._pool_sentences(str(qid), spec, X[rows], S, stance_classes)
                probs = [dict(zip(spec["codes"], row.tolist(), strict=True)) for row in S]
            for r, p in zip(rows, probs, strict=True):
                out[r] = p
        return out  # type: ignore[return-value]

    def _stance_proba(self, T: sparse.csr_matrix) -> tuple[list[str], np.ndarray]:
        if isinstance(self.stance_, str):
            return [self.stance_], np.ones((T.shape[0], 1))
        return list(self.stance_.classes_), self.stance_.predict_proba(T)

    def _short_stance(self, texts: list[str], P: np.ndarray, classes: list[str]) -> np.ndarray:
        """Short answers' stance from the short-answer model, mixed in log space by `short_weight`."""
        short_model = getattr(self, "short_", None)
        if short_model is None:
            return P
        rows = np.flatnonzero(is_short(texts, self.short_words))
        Q = short_model.predict_proba([texts[i] for i in rows], classes)
        return P if Q is None else mix_rows(P, rows, Q, self.short_weight)

    def _tail_stance(self, texts: list[str], P: np.ndarray) -> np.ndarray:
        """Answers over `tail_over` words: the stance of their last sentences (`tail_words` words) mixed in
        log space by `tail_weight`, so a status stated after paragraphs of background counts."""
        if getattr(self, "tail_weight", 0.0) <= 0 or isinstance(self.stance_, str):
            return P
        rows = [i for i, t in enumerate(texts) if word_count(t) > self.tail_over]
        if not rows:
            return P
        _, Q = self._stance_proba(self._tfidf(tails([texts[i] for i in rows], self.tail_words)))
        return mix_rows(P, rows, Q, self.tail_weight)

    def _status_stance(self, texts: list[str], P: np.ndarray) -> np.ndarray:
        """Answers whose form shows where their status is (plan status cells, the clause after *but /
        although / in practice*: `coder.model.status`): that part's stance mixed in by `status_weight`."""
        if isinstance(self.stance_, str):
            return P
        a = getattr(self, "rag_weight", 0.0)
        if a > 0:
            classes = list(self.stance_.classes_)
            qs = [plan_stance(t, classes) for t in texts]
            rows = [i for i, q in enumerate(qs) if q is not None]
            if rows:
                P = mix_rows(P, rows, np.array([qs[i] for i in rows]), a)
        for kind, a in (("plan", getattr(self, "status_weight", 0.0)),
                        ("contrast", getattr(self, "contrast_weight", 0.0))):
            if a <= 0:
                continue
            parts = status_parts(texts, kind, self.tail_over)
            rows = [i for i, s in enumerate(parts) if s]
            if rows:
                _, Q = self._stance_proba(self._tfidf([parts[i] for i in rows]))
                P = mix_rows(P, rows, Q, a)
        return P

    def _product(self, qid: str, spec: dict, emb: np.ndarray, P: np.ndarray,
                 stance_classes: list[str], within: np.ndarray | None = None,
                 short: np.ndarray | None = None, T: sparse.csr_matrix | None = None) -> np.ndarray:
        """Stance x head x word head for single-code answers: rows are answers, columns the question's codes.

        The word head (`T`, the answers' TF-IDF rows; `word_head_weight`, half for `short` rows) reads the words
        each code's answers use in this question ("co-located", "s117", "POhWER"), which the embedding head
        blurs and the shared stance model cannot tie to a question.

        Rows marked `short` use the question's short-answer head where it has one (trained with the lead
        clauses of its answers, `lead_weight`); longer answers are scored as without it.

        Rows marked `within` (short answers, `short_within`): the head only shares each stance's
        probability among that stance's codes; it cannot move probability between stances (a two-word
        answer's embedding sits near the question's short "Not clear" answers whatever it says)."""
        codes, stances = spec["codes"], spec["stances"]
        n = len(emb)
        S = np.empty((n, len(codes)))
        for j, s in enumerate(stances):
            share = stances.count(s)
            S[:, j] = (P[:, stance_classes.index(s)] if s in stance_classes else EPS) / share
        H = head_matrix(self.heads_.get(qid), emb, codes)
        short_head = getattr(self, "short_heads_", {}).get(qid)
        if short is not None and short.any() and short_head is not None:
            H[short] = head_matrix(short_head, emb[short], codes)
        H = H ** self.head_weight
        word_head = getattr(self, "word_heads_", {}).get(qid)
        if T is not None and word_head is not None:
            # short answers' few words are often unknown to a question's word head, which then adds little but
            # its prior over the codes: for them it weighs half
            w = np.full(n, float(self.word_head_weight))
            if short is not None:
                w[short] *= 0.5
            H = H * word_head_matrix(word_head, T, codes) ** w[:, None]
        a = float(getattr(self, "short_within", 0.0))
        if within is not None and within.any() and a > 0:
            Hw = H[within].copy()
            for s in set(stances):
                cols = [j for j, t in enumerate(stances) if t == s]
                group = Hw[:, cols].sum(axis=1, keepdims=True) / len(cols)
                Hw[:, cols] = Hw[:, cols] / group ** a
            H[within] = Hw
        S = np.maximum(S, EPS) * H
        return S / S.sum(axis=1, keepdims=True)

    def _pool_sentences(self, qid: str, spec: dict, X: Answers, S: np.ndarray,
                        stance_classes: list[str]) -> np.ndarray:
        """Let the status-bearing sentences of a long answer decide.

        Each sentence is scored like an answer; sentences weigh by how decided they are (max probability
        to the power `sentence_focus`, so one clear status sentence outweighs paragraphs of background)
        and later sentences a little more (status usually comes last). The pooled log-probabilities are
        mixed with the whole answer's by `sentence_weight`.
        """
        out = S.copy()
        for i, sents in enumerate(X.sentences):
            if len(sents) < 2 or word_count(X.texts[i]) <= self.long_words:
                continue
            se = X.sent_emb[i] if X.sent_emb is not None and X.sent_emb[i] is not None else \
                np.repeat(X.emb[i:i + 1], len(sents), axis=0)
            Ts = self._tfidf(sents)
            _, P = self._stance_proba(Ts)
            Ps = self._product(qid, spec, se, P, stance_classes, T=Ts)
            pos = np.arange(len(sents)) / (len(sents) - 1)
            w = Ps.max(axis=1) ** self.sentence_focus * (1.0 + pos)
            pooled = (w[:, None] * np.log(Ps)).sum(axis=0) / w.sum()
            mix = (1 - self.sentence_weight) * np.log(S[i]) + self.sentence_weight * pooled
            mix = np.exp(mix - mix.max())
            out[i] = mix / mix.sum()
        return out

    def _proba_multi(self, qid: str, spec: dict, emb: np.ndarray, T: sparse.csr_matrix) -> list[dict[str, float]]:
        heads = self.multi_heads_.get(qid, {})
        F = sparse.hstack([T, sparse.csr_matrix(emb)]).tocsr()
        cols = {}
        for code in spec["codes"]:
            h = heads.get(code, 0.0)
            cols[code] = h.predict_proba(F)[:, 1] if isinstance(h, LogisticRegression) else np.full(len(emb), h)
        return [{c: float(cols[c][i]) for c in spec["codes"]} for i in range(len(emb))]


def decide(probs: dict[str, float], multi: bool) -> tuple[str, float]:
    """The suggested codes cell and the model's raw confidence that it is exactly right."""
    if not multi:
        code = max(probs, key=probs.get)
        return code, float(probs[code])
    chosen = [c for c, p in probs.items() if p >= 0.5] or [max(probs, key=probs.get)]
    conf = float(np.prod([p if c in chosen else 1.0 - p for c, p in probs.items()]))
    return format_codes(chosen), conf
