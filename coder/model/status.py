"""The part of an answer that states its status, where the answer says so in its form.

Two forms of answer put the status in one identifiable place and surround it with words that pull the
stance elsewhere:

- **Plan rows** pasted from an action-plan spreadsheet (`Task | Owner | Deadline | RAG: Amber - survey
  issued`): the task and owner cells name the thing to be done (read as "not done yet" or as nothing),
  the status cell says where it is. Its RAG word is spelled out as the training answers would say it
  (`features.normalise_text`: Amber -> "in progress", Green -> "on track in place", Complete -> "completed").
- **Contrasts** ("a policy exists, although in practice it is not used"; "we were supportive in principle.
  However, no reports have been made"): the clause after *but / however / although / in practice* is the
  one the writer means; a leading concession ("Although some find it confusing, the role is set out")
  gives way to the clause after its comma.

`status_parts` returns that part per answer (or None), and the classifier mixes its stance with the whole answer's,
like the tail of a long answer (`coder.model.classify`, `status_weight`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from coder.model.features import normalise_text

STATUS_CELL = re.compile(r"\b(?:(?:rag|status)\s*[:=-]\s*\S[^|\n]*|(?:red|amber|green|blue|complete[d]?|done|"
                         r"not started|on track|closed|achieved|delayed|overdue)\b[^|\n]*)",
                         re.IGNORECASE)
CELL_SPLIT = re.compile(r"\s\|\s|\t")
CONTRAST = re.compile(r"(?:^|[,;:.\s(-])\s*(?:but|however|although|though|that said|having said that|"
                      r"in practice|in reality|realistically|frankly|to be honest|if we are honest|"
                      r"the honest answer is|even so|nevertheless|yet)\b[,:]?\s*", re.IGNORECASE)
CONCESSION = re.compile(r"^\s*(?:although|though|while|whilst|even though|despite)\b[^,]{3,}?,\s*(.+)$",
                        re.IGNORECASE | re.DOTALL)
MIN_WORDS = 3


def status_cells(text: str) -> list[str]:
    """The status cell of each pasted plan row (empty when the text is not a plan)."""
    if not text or not (CELL_SPLIT.search(text) or re.search(r"\b(?:rag|status)\s*[:=-]", text, re.IGNORECASE)):
        return []
    cells: list[str] = []
    for line in text.splitlines():
        parts = [p.strip() for p in CELL_SPLIT.split(line) if p.strip()]
        found = [p[m.start():] for p in parts if (m := STATUS_CELL.search(p)) and m.start() <= 12]
        # a status cell starts with its status; of a row's cells, the last such is the status column
        # (a task cell "Complete all reviews" comes first)
        if found:
            cells.append(found[-1])
    return cells


def plan_status(text: str) -> str | None:
    """The status cells of pasted plan rows, RAG words spelled out; None when the text is not a plan."""
    cells = status_cells(text)
    return " . ".join(normalise_text(c) for c in cells) if cells else None


def contrast_clause(text: str, max_words: int = 100) -> str | None:
    """The clause the writer means in a contrast (after the last but / however / although ...), or after a
    leading concession's comma; None without a contrast, in long answers, or when it is too short."""
    if not text or len(text.split()) > max_words:
        return None
    matches = list(CONTRAST.finditer(text))
    if not matches:
        return None
    last = matches[-1]
    start = last.end()
    if last.start() == 0 or not text[:last.start()].strip():  # leading "Although A, B": B is meant
        m = CONCESSION.match(text)
        if not m:
            return None
        clause = m.group(1)
    else:
        clause = text[start:]
        sentence_start = max(text.rfind(". ", 0, last.start()), -1) + 1
        lead = text[sentence_start:last.start() + 1]
        # "Although A, B" inside a later sentence: B is meant
        m = CONCESSION.match(text[sentence_start:].lstrip(". "))
        if m and len(lead.split()) <= 1:
            clause = m.group(1)
    return clause.strip() if len(clause.split()) >= MIN_WORDS else None


# What a plan's status word says, as stances (general RAG usage: green = on track or done, amber = under
# way with issues, red = off track, "not started" = no, complete / done / blue = finished; a finished task is a
# "yes" or, for questions that have one, an "already completed" code, whose stance is `other`).
RAG_STANCE = [
    (re.compile(r"\b(?:complete[d]?|done|blue|closed|achieved|finished)\b", re.I), {"yes": 0.5, "other": 0.5}),
    (re.compile(r"\b(?:green|on track)\b", re.I), {"yes": 0.6, "underway": 0.3, "other": 0.1}),
    (re.compile(r"\b(?:amber|in progress|under ?way|ongoing)\b", re.I), {"underway": 1.0}),
    (re.compile(r"\b(?:not started|not begun|no progress)\b", re.I), {"no": 1.0}),
    (re.compile(r"\b(?:red|overdue|delayed)\b", re.I), {"no": 0.5, "underway": 0.5}),
]


def plan_stance(text: str, classes: Sequence[str]) -> np.ndarray | None:
    """The stance distribution (columns `classes`) that a plan's status cells state, averaged over its rows;
    None when the text is not a plan or its cells name no status."""
    rows = []
    for cell in status_cells(text):
        # the status word leads its cell ("AMBER - 5 of 12 done" is amber, not done)
        head = re.sub(r"^(?:rag|status)\s*[:=-]?\s*", "", cell, flags=re.IGNORECASE)
        for pat, dist in RAG_STANCE:
            # "RED - not started": the plain words say more than the colour
            if pat.match(head) or (dist == {"no": 1.0} and pat.search(head[:30])):
                rows.append([dist.get(c, 0.0) for c in classes])
                break
    if not rows:
        return None
    q = np.maximum(np.mean(rows, axis=0), 1e-3)
    return q / q.sum()


def status_parts(texts: Sequence[str], kind: str, max_words: int = 100) -> list[str | None]:
    """Per text, its plan status cells (`kind="plan"`) or its contrast clause (`kind="contrast"`)."""
    if kind == "plan":
        return [plan_status(t) for t in texts]
    return [contrast_clause(t, max_words) for t in texts]
