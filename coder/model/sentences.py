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
from functools import lru_cache

LINE_BREAK = re.compile(r"\s*(?:\n+|\s\|\s|;\s+(?=[A-Z•\-*]))\s*")
BULLET = re.compile(r"^\s*(?:[•\-*–·]|\d+[.)])\s+")
MIN_CHARS = 3


@lru_cache(maxsize=1)
def _nlp():
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.max_length = 5_000_000
    return nlp


def split_sentences(texts: Sequence[str]) -> list[list[str]]:
    """Per text, its sentences (lines and bullets first, then spaCy's sentencizer within each line)."""
    pieces: list[list[str]] = []
    for t in texts:
        lines = [BULLET.sub("", ln).strip() for ln in LINE_BREAK.split(t or "")]
        pieces.append([ln for ln in lines if len(ln) >= MIN_CHARS])
    flat = [ln for p in pieces for ln in p]
    docs = iter(_nlp().pipe(flat, batch_size=256))
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
