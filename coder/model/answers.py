"""Model input: the answers a classifier reads, row-aligned with their question ids and embeddings.

Its own module so that every stage that builds model input (fitting, suggesting, audit, drift, the bench)
imports it without importing the classifier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Answers:
    """Model input: texts, their question ids, and their sentence embeddings (row-aligned).

    `sentences` / `sent_emb` (optional, from `coder.model.sentences.with_sentences`): per answer its
    sentences and their embeddings, for answers long enough to be scored sentence by sentence.
    `leads` / `lead_emb` (optional, training only, from `coder.model.leads.with_leads`): per answer the
    short status clause it opens with (or None) and that clause's embedding.
    """

    texts: list[str]
    qids: np.ndarray
    emb: np.ndarray
    sentences: list[list[str]] | None = None
    sent_emb: list[np.ndarray | None] | None = None
    leads: list[str | None] | None = None
    lead_emb: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.qids = np.asarray(self.qids, dtype=int)
        if not (len(self.texts) == len(self.qids) == len(self.emb)):
            raise ValueError("texts, qids and emb must have the same length")

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, idx: np.ndarray) -> Answers:
        idx = np.asarray(idx)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        sub = Answers([self.texts[i] for i in idx], self.qids[idx], self.emb[idx])
        if self.sentences is not None:
            sub.sentences = [self.sentences[i] for i in idx]
        if self.sent_emb is not None:
            sub.sent_emb = [self.sent_emb[i] for i in idx]
        if self.leads is not None:
            sub.leads = [self.leads[i] for i in idx]
        if self.lead_emb is not None:
            sub.lead_emb = self.lead_emb[idx]
        return sub
