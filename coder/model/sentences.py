"""Sentences of an answer: where a long answer's status usually sits.

Real returns run to pages: background first, status last ("... the strategy is now in development"), or a
pasted action plan whose rows each carry a status. One mean-pooled vector over the whole text (truncated
at 256 word pieces) lets the background drown the status, so long answers are also scored sentence by
sentence (`coder.model.classify`). Sentences come from spaCy's rule-based sentencizer (no model, offline)
plus line breaks, bullets and table cells, which pasted plans use instead of full stops.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from coder.text import sentencizer

LINE_BREAK = re.compile(r"\s*(?:\n+|\s\|\s|;\s+(?=[A-Z•\-*]))\s*")
BULLET = re.compile(r"^\s*(?:[•\-*–·]|\d+[.)])\s+")
MIN_CHARS = 3




def split_sentences(texts: Sequence[str]) -> list[list[str]]:
    """Per text, its sentences (lines and bullets first, then spaCy's sentencizer within each line)."""
    pieces: list[list[str]] = []
    for t in texts:
        lines = [BULLET.sub("", ln).strip() for ln in LINE_BREAK.split(t or "")]
        pieces.append([ln for ln in lines if len(ln) >= MIN_CHARS])
    flat = [ln for p in pieces for ln in p]
    docs = iter(sentencizer().pipe(flat, batch_size=256))
    out = []
    for p in pieces:
        sents: list[str] = []
        for _ in p:
            sents += [s.text.strip() for s in next(docs).sents if len(s.text.strip()) >= MIN_CHARS]
        out.append(sents)
    return out


def word_count(text: str) -> int:
    return len((text or "").split())


def with_sentences(X, embedder=None, long_words: int = 40):
    """`X` (an `Answers`) with the sentences of its long answers (over `long_words` words, two sentences
    or more) and, given an embedder, their embeddings. Short answers keep one vector: nothing to split."""
    sentences: list[list[str]] = [[] for _ in X.texts]
    long_idx = [i for i, t in enumerate(X.texts) if word_count(t) > long_words]
    for i, s in zip(long_idx, split_sentences([X.texts[i] for i in long_idx]), strict=True):
        sentences[i] = s if len(s) >= 2 else []
    X.sentences = sentences
    if embedder is not None:
        flat = [s for ss in sentences for s in ss]
        vecs = embedder.encode(flat) if flat else None
        out, k = [], 0
        for ss in sentences:
            out.append(vecs[k:k + len(ss)] if ss else None)
            k += len(ss)
        X.sent_emb = out
    return X


def chunks(text: str, max_words: int) -> list[str]:
    """The text cut at sentence ends into pieces of at most about `max_words` words."""
    [sents] = split_sentences([text])
    out: list[str] = []
    cur: list[str] = []
    n = 0
    for s in sents or [text]:
        w = word_count(s)
        if cur and n + w > max_words:
            out.append(" ".join(cur))
            cur, n = [], 0
        cur.append(s)
        n += w
    if cur:
        out.append(" ".join(cur))
    return out


def embed_whole(X, embedder, max_words: int):
    """Replace the embedding of answers longer than `max_words` by the mean of their pieces' embeddings.

    The embedder reads at most 256 word pieces (about 190 words): a longer answer's end, where its status
    usually is, would never be seen. Pieces are embedded (and cached) like any text."""
    long_idx = [i for i, t in enumerate(X.texts) if word_count(t) > max_words]
    if not long_idx or embedder is None:
        return X
    pieces = [chunks(X.texts[i], max_words) for i in long_idx]
    vecs = embedder.encode([p for ps in pieces for p in ps])
    X.emb = np.array(X.emb, copy=True)
    k = 0
    for i, ps in zip(long_idx, pieces, strict=True):
        v = vecs[k:k + len(ps)].mean(axis=0)
        X.emb[i] = v / max(float(np.linalg.norm(v)), 1e-9)
        k += len(ps)
    return X


def tails(texts: Sequence[str], min_words: int) -> list[str]:
    """Per text, its last sentences, at least `min_words` words together (the whole text if shorter):
    where a long answer's status usually sits."""
    out = []
    for t, sents in zip(texts, split_sentences(texts), strict=True):
        k, n = len(sents), 0
        while k > 0 and n < min_words:
            k -= 1
            n += word_count(sents[k])
        out.append(" ".join(sents[k:]) if sents else t)
    return out
