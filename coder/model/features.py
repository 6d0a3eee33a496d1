"""Text features for answers written in other styles than the training answers.

General tools, built from the training answers and plain English rather than from any test set:

- `normalise_text` maps the shorthand of pasted action plans and hurried answers onto the words the
  training answers use: RAG statuses ("RAG: Amber" -> "in progress"), "complete"/"done", common
  abbreviations ("grp", "mtg", "atm", "tbc") and dropped letters ("discussd", "doin").
- `long_answers` builds long training answers from short ones plus background sentences taken from other
  questions' answers, so the stance model learns that a paragraph of context does not change the status.
- `strip_question` drops a restatement of the question an answer opens with.
- `mark_negation` marks the words a negation governs ("no gaps have been raised" -> "no gaps neg_gaps
  have neg_have ..."), the classic scope marking of sentiment analysis, so the stance model's word n-grams
  tell "gaps have been raised" from "no gaps have been raised" beyond a two-word window (off by default).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

RAG = [
    (r"\b(?:rag|status)?\s*[:=-]?\s*\b(?:blue|complete[d]?|done|closed|achieved)\b", " completed "),
    (r"\bgreen\b", " on track in place "),
    (r"\bamber\b", " in progress not yet complete "),
    (r"\bred\b", " not started not in place delayed "),
    (r"\b(?:rag|r/a/g)\b", " "),
]
ABBREV = {
    "grp": "group", "grps": "groups", "mtg": "meeting", "mtgs": "meetings", "atm": "at the moment",
    "tbc": "to be confirmed", "tbd": "to be decided", "tba": "to be agreed", "w/": "with", "w/o": "without",
    "wk": "week", "wks": "weeks", "yr": "year", "yrs": "years", "mth": "month", "mths": "months",
    "mgr": "manager", "dept": "department", "depts": "departments", "govt": "government",
    "prog": "programme", "progr": "programme", "approx": "approximately", "incl": "including",
    "inc": "including", "n/a": "not applicable", "na": "not applicable", "shld": "should",
    "wd": "would", "cd": "could", "dont": "do not", "doesnt": "does not", "isnt": "is not",
    "havent": "have not", "havnt": "have not", "hasnt": "has not", "wont": "will not", "cant": "can not",
    "didnt": "did not", "arent": "are not", "tho": "though", "thru": "through", "rn": "right now",
    "tbh": "to be honest", "asap": "as soon as possible", "ongoing": "ongoing in progress",
    "wip": "work in progress", "hsg": "housing", "comm": "commissioning", "comms": "communications",
    "agrmt": "agreement", "agrmnt": "agreement", "reqd": "required", "req": "required", "info": "information",
    "b4": "before", "u": "you", "ur": "your", "&": "and", "+": "and", "@": "at", "re": "regarding",
    "jus": "just", "bein": "being", "goin": "going", "yet2": "yet to", "nil": "none", "x": "times",
}
TOKEN = re.compile(r"(?<![\w/])([A-Za-z][\w/]*|&|\+|@)(?![\w/])")
DROPPED_G = re.compile(r"\b([a-z]{2,}?)in\b", re.IGNORECASE)  # "doin", "usin" -> "doing", "using"
DROPPED_E = re.compile(r"\b(\w{3,}[^aeiou\W])d\b")  # "discussd" -> "discussed" (only after a consonant pair)
PAST_DATE = re.compile(r"\b(?:completed?|done|finished|held|met|agreed|signed off)\b[^.]{0,30}\b"
                       r"(?:in|on|by)?\s*(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s*'?\d{2,4}",
                       re.IGNORECASE)


def _expand(match: re.Match) -> str:
    word = match.group(1)
    return ABBREV.get(word.lower(), word)


def normalise_text(text: str) -> str:
    """The answer in the training answers' words (what a reader would take the shorthand to mean)."""
    t = text or ""
    t = TOKEN.sub(_expand, t)
    t = DROPPED_G.sub(lambda m: m.group(0) if m.group(0).lower() in KEEP_IN or
                      m.group(0).lower().endswith(("ain", "ein", "lin", "rin")) else m.group(1) + "ing", t)
    t = DROPPED_E.sub(lambda m: m.group(0) if m.group(1).lower().endswith(("e", "n", "l", "r")) else
                      m.group(1) + "ed", t)
    if PAST_DATE.search(t):
        t += " already completed"
    low = t.lower()
    for pat, repl in RAG:
        low = re.sub(pat, repl, low)
    return low


KEEP_IN = {"within", "begin", "margin", "cabin", "origin", "robin", "basin", "admin", "cousin", "pin",
           "main", "again", "certain", "plain", "remain", "domain", "obtain", "contain", "maintain", "brain",
           "train", "chain", "join", "coin", "spin", "twin", "skin", "thin", "shin", "tin", "bin", "fin",
           "win", "sin", "kin", "din", "gin", "lin", "rin", "martin", "latin", "vitamin", "austin", "kevin"}


def long_answers(texts: Sequence[str], qids: np.ndarray, labels: np.ndarray, per_answer: int,
                 random_state: int = 0) -> tuple[list[str], np.ndarray]:
    """Synthetic long answers: each answer with 2-8 background sentences from other questions' answers,
    mostly before it (real narratives put the status last), sometimes after. The label is the answer's."""
    from coder.model.sentences import split_sentences

    rng = np.random.default_rng(random_state)
    qids = np.asarray(qids)
    sents = split_sentences(texts)
    pool = [(q, s) for q, ss in zip(qids, sents, strict=True) for s in ss if len(s.split()) >= 6]
    if not pool:
        return [], np.array([], dtype=object)
    pool_q = np.array([q for q, _ in pool])
    pool_s = [s for _, s in pool]
    out, y = [], []
    for i, t in enumerate(texts):
        other = np.flatnonzero(pool_q != qids[i])
        if len(other) == 0:
            continue
        for _ in range(per_answer):
            k = int(rng.integers(2, 9))
            bg = " ".join(pool_s[j] for j in rng.choice(other, size=min(k, len(other)), replace=False))
            out.append(f"{bg} {t}" if rng.random() < 0.75 else f"{t} {bg}")
            y.append(labels[i])
    return out, np.array(y, dtype=object)


WORD = re.compile(r"[a-z0-9]{3,}")
REF_PREFIX = re.compile(r"^\s*(?:q(?:uestion)?\s*\d+(?:\.\d+)*|\d+\.\d+(?:\.\d+)*)\s*[-:.)]?\s*", re.IGNORECASE)
CLAUSE = re.compile(r"(?<=[?.!:])\s+|\n+")


def strip_question(text: str, question: str, overlap: float = 0.6) -> str:
    """The answer without a leading restatement of the question ("Q1.1 - Are you establishing ...? Yes,
    ..."): leading clauses that ask (a question mark, or a question number before them) in mostly the
    question's words, or copy it nearly word for word, carry no answer.
    A text that is nothing but the question is kept as it is
    (there is nothing else to score)."""
    qwords = set(WORD.findall((question or "").lower()))
    if not qwords or not text:
        return text
    parts = [p for p in CLAUSE.split(text) if p.strip()]
    k = 0
    while k < len(parts):
        part = parts[k].strip()
        words = WORD.findall(REF_PREFIX.sub("", part).lower())
        shared = sum(w in qwords for w in words) / max(len(words), 1)
        asked = part.endswith("?") or REF_PREFIX.match(part) is not None
        covers = len(set(words) & qwords) / len(qwords)
        if asked and shared >= overlap or shared >= 0.9 and covers >= 0.7:
            k += 1
        else:
            break
    if k == 0 or k == len(parts):
        return text
    return " ".join(parts[k:])


NEGATORS = frozenset({
    "not", "no", "never", "nor", "none", "nobody", "nothing", "without", "cannot", "can't", "don't", "doesn't",
    "didn't", "isn't", "aren't", "wasn't", "weren't", "haven't", "hasn't", "hadn't", "won't", "wouldn't",
    "couldn't", "shouldn't", "n't"})
SCOPE_ENDS = frozenset({"but", "however", "although", "though"})
PUNCTUATION = frozenset(".,;:!?|()\n")
NEG_TOKEN = re.compile(r"[a-z0-9']+|[.,;:!?|()\n]")


def mark_negation(text: str) -> str:
    """The lower-cased answer with each word a negation governs repeated with a `neg_` mark.

    A negation's scope runs to the next punctuation mark or contrast word (*but, however, although*); a
    second *not* / *no* inside a scope ends it ("not the case that no register exists"). Every word
    stays and punctuation is dropped; single words are as before, but a marked copy sits between the
    words it governs, so their bigrams change ("gaps have" becomes "gaps neg_gaps", "neg_gaps have").
    Measured on the style-shift development sets and the bundled round split (README, "Answers in other
    styles")."""
    out: list[str] = []
    on = False
    for m in NEG_TOKEN.finditer((text or "").lower()):
        w = m.group(0)
        if w in PUNCTUATION:
            on = False
            continue
        if w in SCOPE_ENDS:
            on = False
            out.append(w)
            continue
        if w in NEGATORS:
            on = not on if on and w in ("not", "no") else True
            out.append(w)
        else:
            out.append(f"{w} neg_{w}" if on else w)
    return " ".join(out)
