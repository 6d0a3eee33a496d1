"""The counts an update states for its area: people discharged, still in hospital, not discharged by June.

spaCy's rule Matcher (on a blank English pipeline: nothing downloaded) finds every stated number: digits,
number words, "none", "nobody", "neither", "both", "all N". Each number is read within its clause (cut at
`;`, `.`, `|`, ` / `, `,`, ` and `) by the nearest predicate: "have been discharged" (discharged), "remain in
hospital" (in hospital), "will not be discharged by June" (not by June). Numbers about the stocktake cohort
("six people in scope", "at the time of the stocktake") are not counts here, and a count the text does not
state stays blank: a number worked out from others is not stated (codebook update-2014.yaml, Q1-Q3).
"""

from __future__ import annotations

import re
from functools import lru_cache

COUNT_FIELDS = ("discharged_count", "in_hospital_count", "not_by_june_count")
WORDS = {"none": 0, "nobody": 0, "no one": 0, "neither": 0, "zero": 0, "nil": 0, "one": 1, "two": 2, "three": 3,
         "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
DIS, HOSP, NBJ, SKIP = "discharged_count", "in_hospital_count", "not_by_june_count", "skip"
BOUNDARY = re.compile(r"[;|.](?!\d)|\s/\s|,\s|\s(?:and|but)\s|\s[–—-]\s")
PREDICATES: list[tuple[str, re.Pattern]] = [
    (NBJ, re.compile(r"will not|won't|not be discharged|not discharged|not by ju|not out by|still be in hospital on"
                     r"|remain in hospital after|after (?:1 )?june|after the milestone|will not leave|\bare not\b"
                     r"|\bnot\s*$|not\.|\bnot\b(?=\s*\))", re.I)),
    (SKIP, re.compile(r"will (?:be|do|have|move|both)|to be discharged|\bdue\b|one more|further|confirmed moves"
                      r"|planned for|will be before|will be by|is due|(?<!not )out by june|on track", re.I)),
    (SKIP, re.compile(r"(?<!since )(?<!since the )stocktake(?! have)|@ stocktake|in scope|cohort|\btotal\b"
                      r"|programme|last summer"
                      r"|when we completed|were then|at the start|at stocktake|identified|were in", re.I)),
    (HOSP, re.compile(r"still in|remain|in hosp|in-?patient|\bin\b(?=\s*\d)|\bin\b\s*$|^\s*in\b|\bleft\s*\d"
                      r"|hospital now|\bin\s*$", re.I)),
    (DIS, re.compile(r"discharg|disch|d/c|\bout\b|returned|have left|moved", re.I)),
]
ALL_NOT = re.compile(r"\b(?:none|neither) of (?:the |our |those |these )?(?:other |remaining )?(\w+)\b", re.I)
ALL_OUT = re.compile(r"\b(?:all|both|the remaining)\b[^.;]{0,30}\b(?:will (?:have been|both|all)|out by june"
                     r"|on track for discharge|leave hospital before|will both)|\bboth out by june", re.I)


@lru_cache(maxsize=1)
def number_matcher():
    """spaCy rule matcher for stated numbers: digits, number words, 'none' / 'nobody' / 'no one'."""
    import spacy
    from spacy.matcher import Matcher

    nlp = spacy.blank("en")
    matcher = Matcher(nlp.vocab)
    matcher.add("NUMBER", [[{"LIKE_NUM": True}], [{"LOWER": {"IN": ["none", "nobody", "neither", "nil"]}}],
                           [{"LOWER": "no"}, {"LOWER": "one"}]])
    return nlp, matcher


def _value(word: str) -> int | None:
    w = word.lower()
    if w in WORDS:
        return WORDS[w]
    return int(w) if re.fullmatch(r"\d{1,2}", w) else None


def _clause(line: str, start: int, end: int) -> tuple[str, str]:
    """The text before and after a number, within its clause."""
    before = line[:start]
    cuts = list(BOUNDARY.finditer(before))
    before = before[cuts[-1].end():] if cuts else before
    after = line[end:]
    m = BOUNDARY.search(after)
    after = after[:m.start()] if m else after
    return before, after.split("(")[0]


def classify_number(before: str, after: str) -> str | None:
    """Which count a number states, from its clause; None when it states none of them."""
    if re.match(r"\s*(?:[-–]?\s*(?:hours?|hrs?|beds?|weeks?|wks?|months?|days?|years?|miles?|%|\+|tenants?|others?"
                r"|times?|flats?|people with|to \d)|(?:st|nd|rd|th)\b"
                r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*|/)", after, re.I):
        return None
    best: tuple[int, str] | None = None
    for field, pat in PREDICATES:
        for m in pat.finditer(after):
            d = m.start()
            if best is None or d < best[0]:
                best = (d, field)
            break
        tail = list(pat.finditer(before))
        if tail and re.fullmatch(r"\w*(?:\s+[\w@]+){0,5}?[\s:=(\-–]*", before[tail[-1].end():]):
            d = 0 if field == NBJ else len(before) - tail[-1].end()  # "will not be discharged by June: 3"
            if best is None or d < best[0]:
                best = (d, field)
    if best is None or best[1] == SKIP:
        return None
    return best[1]


def extract_counts(text: str) -> dict[str, int | None]:
    """The three counts the update states; None for a count it does not state. The first statement wins."""
    nlp, matcher = number_matcher()
    out: dict[str, int | None] = dict.fromkeys(COUNT_FIELDS)

    def put(field: str, value: int) -> None:
        if out[field] is None:
            out[field] = value

    for line in str(text).split("\n"):
        if re.match(r"^\s*(?:\W\s*)?(?:\d+[.)]\s+)?(?:Person|Patient|Pt|Client|Individual|Service user|Case|Mr|Ms|Mrs"
                    r"|Miss|[A-Z]{1,2}\d*\b(?!\s+(?:in|people))|[A-Z]\.)", line) and not re.search(
                    r"\b(?:discharged|disch|in hosp\w*|not by june)\b\s*[:=]?\s*\d", line, re.I):
            continue  # a person's own line: its numbers are about them
        if m := ALL_NOT.search(line):
            n = _value(m.group(1))
            if n is not None and re.search(r"\b(?:by|before)\b", line[m.end():], re.I):
                verb = line[m.end():m.end() + 60].lower()
                if "discharged" in verb and "will" not in verb and "by" not in verb.split("discharged")[0]:
                    put(DIS, 0)
                else:
                    put(NBJ, n)
                    if re.search(r"other|remaining|those", m.group(0), re.I):
                        put(HOSP, n)
        if ALL_OUT.search(line):
            put(NBJ, 0)
        if re.search(r"\bno discharges to report\b", line, re.I):
            put(DIS, 0)
        if re.search(r"\bnobody who will still be in hospital\b", line, re.I):
            put(NBJ, 0)
        doc = nlp(line)
        for _, s, e in sorted(matcher(doc), key=lambda m: m[1]):
            span = doc[s:e]
            value = _value(span.text)
            if value is None:
                continue
            start, end = span.start_char, span.end_char
            if re.search(r"[/\d.:]$", line[:start]) or re.match(r"[/:.]\d|[-–]\d", line[end:]):
                continue  # part of a date, a ratio or a section number
            if re.search(r"\b(?:of the|of our|of these|of those)\s*$", line[:start], re.I):
                continue  # "of the three who remain": the head of a partition, read below
            before, after = _clause(line, start, end)
            field = classify_number(before, after)
            if field == HOSP and re.search(r"stocktake|in scope|cohort", after + before, re.I) and not re.search(
                    r"now|still|remain", after + before, re.I):
                continue
            if field:
                put(field, value)
        for m in re.finditer(r"\bof the (\w+) who (?:remain|are still) in hospital", line, re.I):
            if (n := _value(m.group(1))) is not None:
                put(HOSP, n)
    return out


def check_count(value: object) -> int | None:
    """A count cell: a whole number of people, 0 or more, or blank (not stated). Raises ValueError."""
    v = str(value if value is not None else "").strip()
    if not v:
        return None
    if re.fullmatch(r"\d+(?:\.0+)?", v):
        return int(float(v))
    raise ValueError(f"{v!r} is not a count of people (a whole number, 0 or more)")
