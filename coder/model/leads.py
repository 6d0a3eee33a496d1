"""Lead clauses: the short status an answer opens with, as extra short training answers.

Real returns often answer in two or three words ("Working on it", "None known.", "Partly."), but the
bundled training answers are mostly a sentence or more, and their few short ones are mostly vague ("TBC",
"See 2") and coded *Not clear*. So every model learns that a short answer means *Not clear*: the
per-question heads put "Working on it" among the question's short *Not clear* answers at 0.93, whatever
it says. Yet about half of the written training answers open with a short status clause before they
explain it ("Working on it - tender out now.", "Partly, the CCG ...", "No. The council ..."). That clause,
labelled with the whole answer's code, is a short answer written by a real respondent: training on these
clauses teaches the heads and the short-answer stance model what short answers say, from the answer
bank itself (it grows as more answers are coded) rather than from hand-written examples.

A clause that carries no status ("Current position:", "See 2") gets the codes of the answers it opens,
which are spread over every code, so the models learn it says little.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from coder.model.sentences import word_count

# where an opening clause ends: a spaced dash, sentence punctuation, a line break, or a comma
CLAUSE_END = re.compile(r"\s+[-–—]\s+|[.;:!?\n]|,\s")


def lead_clause(text: str, max_words: int) -> str | None:
    """The clause `text` opens with, when it has 1 to `max_words` words and the answer goes on after it."""
    m = CLAUSE_END.search(text or "")
    if not m:
        return None
    lead = text[:m.start()].strip()
    n = word_count(lead)
    return lead if 1 <= n <= max_words and word_count(text) > n else None


def lead_clauses(texts: Sequence[str], max_words: int) -> list[str | None]:
    """Per answer its lead clause, or None."""
    return [lead_clause(t, max_words) for t in texts]


def with_leads(X, embedder, max_words: int):
    """`X` (an `Answers`) with its lead clauses and their embeddings (`embedder.encode`, cached), for
    training: `X.leads[i]` is answer i's lead clause or None, `X.lead_emb[i]` its embedding (zeros if
    none)."""
    X.leads = lead_clauses(X.texts, max_words)
    if embedder is None:  # the short-answer stance model can still read the clauses; the heads cannot
        X.lead_emb = None
        return X
    X.lead_emb = np.zeros_like(np.asarray(X.emb, dtype=np.float32))
    have = [i for i, lead in enumerate(X.leads) if lead]
    if have:
        X.lead_emb[have] = embedder.encode([X.leads[i] for i in have])
    return X
