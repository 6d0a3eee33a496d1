"""The counts an update states for its area: people discharged, still in hospital, not discharged by June.

spaCy's rule Matcher (on a blank English pipeline: nothing downloaded) finds every stated number: digits,
number words, "none", "nobody", "neither", "both", "all N". Each number is read within its clause (cut at
`;`, `.`, `|`, ` / `, `,`, ` and `) by the nearest predicate: "have been discharged" (discharged), "remain in
hospital" (in hospital), "will not be discharged by June" (not by June). Numbers about the stocktake cohort
("six people in scope", "at the time of the stocktake") are not counts here, and a count the text does not
state stays blank: a number worked out from others is not stated (codebook update-2014.yaml, Q1-Q3).

Authors correct themselves and report in steps, so a total or a corrected figure ("making three in all", "the
correct number is four", "(so five)") replaces the figure its sentence was about, while an earlier return's
figure ("previously reported 6", "we reported 7 in January") and an increment since it are skipped. Headline
figures may follow a dash or sit in the next table cell; numbers that are labels ("Patient 5"), sections of
the Mental Health Act ("section 3") or years are never counts.
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
    (NBJ, re.compile(r"will not|won't|not be discharged|not discharged|not by (?:1 )?ju|not out by"
                     r"|still be in hospital on"
                     r"|remain in hospital after|after (?:1 )?june|after the milestone|will not leave|\bare not\b"
                     r"|\bnot\s*$|not\.|\bnot\b(?=\s*\))|miss\w* the|beyond (?:1 )?june|post-?june|not (?:meet|make)\b"
                     r"|will still be in", re.I)),
    (SKIP, re.compile(r"will (?:be|do|have|move|both)|to be discharged|\bdue\b|one more|further|confirmed moves"
                      r"|planned for|will be before|will be by|is due|(?<!not )out by june|on track|^\s*more\b"
                      r"|(?<!not )to be out"
                      r"|expect\w* to", re.I)),
    (SKIP, re.compile(r"(?<!since )(?<!since the )stocktake(?! have)|@ stocktake|in scope|cohort|\btotal\b"
                      r"|programme|last summer"
                      r"|when we completed|were then|at the start|at stocktake|identified|were in", re.I)),
    # a figure from an earlier return, or an increment since it, is not the count since the stocktake
    (SKIP, re.compile(r"previously|we (?:had )?(?:said|reported)|(?:last|previous|earlier|january|jan|february|feb"
                      r"|march) return|since (?:then|our \w+ return|the last return)|was wrong|incorrect", re.I)),
    (HOSP, re.compile(r"still in|still there|remain(?!\w*\s+(?:in|at)\s+(?:the\s+)?(?:community|home|their|his|her"
                      r"|own))|in hosp|in-?patient|\binpts?\b|\bin\b(?=\s*\d)(?!\s*(?:19|20)\d\d)"
                      r"|\bin\b\s*$|\bleft\s*\d"
                      r"|^\s*in\b(?!\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|20\d\d|our|the|their|his|her))"
                      r"|hospital now|\bin\s*$", re.I)),
    (DIS, re.compile(r"discharg|disch|d/c|\bout\b(?![- ]of[- ](?!hospital))|returned|moved"
                     r"|(?:living|live|settled) in the community|into the community|moved on"
                     r"|\b(?:have|has)\s+(?:now\s+|since\s+|all\s+|both\s+|already\s+)*left", re.I)),
]
ALL_NOT = re.compile(r"\b(?:none|neither)(?: of (?:the |our |those |these )?(?:other |remaining )?(\w+))?\b", re.I)
REPORTED = re.compile(r"previously|we (?:had )?(?:said|reported)|(?:last|previous|earlier) return", re.I)
# "have both been discharged", "has now left": a count of people discharged, even when its subject is the
# stocktake cohort ("the two people identified in our stocktake have both been discharged")
ALL_LEFT = re.compile(r"^[^.;]{0,80}?\b(?:have|has)\s+(?:now\s+|since\s+|all\s+|both\s+|already\s+)*"
                      r"(?:been discharged|left)", re.I)
# a total or a corrected figure replaces what the sentence said before it: "one more since January, making
# three in all", "we said five; the correct number is four", "two, plus a further one (so three)"
TOTAL = re.compile(r"(?:\bcorrect(?:ed)? (?:number|figure|total) (?:is|was|should be)|\b(?:making|giving)"
                   r"|\bbringing (?:the|our) total(?: \w+){0,3} to|\(so)\s+(?:a total of\s+)?(\w+)\b", re.I)
TOTAL_OF = {DIS: re.compile(r"discharg|disch|d/c|\bleft\b|moved", re.I),
            HOSP: re.compile(r"still in|remain|in hosp|in-?patient", re.I),
            NBJ: re.compile(r"not by ju|will not|won't|not be discharged", re.I)}
# "no Penfield people in in-patient settings", "no in-patients": nobody still in hospital
NO_ONE_IN = re.compile(r"\bno (?:(?:[A-Z][a-z]+|other|more) )?(?:people|persons|patients|residents|individuals|adults"
                       r"|service users)\b[^.;]{0,25}\b(?:in hospital|in (?:an? )?in-?patient|in (?:an? )?(?:ATU|secure"
                       r"|assessment|hospital))|\bno (?:in-?patients|inpatients)\b", re.I)
COHORT = re.compile(r"stocktake|in scope|cohort|2013|originally|initially|back in", re.I)  # who was in hospital then
LABEL_LINE = re.compile(r"^\s*(?:\W\s*)?(?:\(?\w\)\s+|\d+[.)]\s+)?(?:(?i:Person|Patient|Pt|Client|Individual"
                        r"|Service user|Young person|Case|Mr|Ms|Mrs|Miss)\b"
                        r"|(?![AI]\s)[A-Z]{1,2}\d*\b(?![/&])(?!\s+(?:in|people))"
                        r"|[A-Z]\.)")
ALL_OUT = re.compile(r"\b(?:all|both|the remaining)\b[^.;]{0,40}\b"
                     r"(?:will (?:have been|both|all|be discharged (?:by|before))"
                     r"|(?:expected )?to be discharged (?:by|before) (?:1 )?june|out by june"
                     r"|on track for discharge|leave hospital before|will both)|\bboth out by june", re.I)


@lru_cache(maxsize=1)
def number_matcher():
    """spaCy rule matcher for stated numbers: digits, number words, 'none' / 'nobody' / 'no one'."""
    import spacy
    from spacy.matcher import Matcher

    nlp = spacy.blank("en")
    matcher = Matcher(nlp.vocab)
    matcher.add("NUMBER", [[{"LIKE_NUM": True}], [{"LOWER": {"IN": ["none", "nobody", "neither", "nil"]}}],
                           [{"LOWER": "no"}, {"LOWER": {"IN": ["one", "people", "patients", "individuals"]}}],
                           [{"LOWER": "no"}, {"ORTH": "-"}, {"LOWER": "one"}]])
    return nlp, matcher


def _value(word: str) -> int | None:
    w = word.lower()
    if w.startswith(("no ", "no-")):
        return 0  # "no one", "no people"
    if w in WORDS:
        return WORDS[w]
    return int(w) if re.fullmatch(r"\d{1,2}", w) else None


def _clause(line: str, start: int, end: int) -> tuple[str, str]:
    """The text before and after a number, within its clause."""
    before = line[:start]
    cuts = list(BOUNDARY.finditer(before))
    if cuts and not before[cuts[-1].end():].strip() and re.fullmatch(r"\s[–—-]\s|\|", cuts[-1].group(0)):
        cuts.pop()  # a headline figure after a dash or in the next cell: "In hosp – four", "| Discharged | 3 |"
    before = before[cuts[-1].end():] if cuts else before
    # an aside in brackets does not end the clause: "Two people (A and B) have been discharged"
    after = re.sub(r"\([^()]*\)", lambda p: " " * len(p.group(0)), line[end:])
    m = BOUNDARY.search(after)
    if m and m.group(0) == ", " and re.fullmatch(r"\s*(?:people|persons?|individuals?|patients?)?\s*",
                                                 after[:m.start()]):
        # an aside between commas: "One person, whom we call Mr L, was discharged in November"
        aside = re.match(r"[^,.;]{1,60},\s+((?:was|were|has|have|had|is|are|will)\b[^,.;]*)", after[m.end():])
        if aside:
            return before, after[:m.start()] + " " + aside.group(1)
    after = after[:m.start()] if m else after
    return before, after.split("(")[0]


def classify_number(before: str, after: str) -> str | None:
    """Which count a number states, from its clause; None when it states none of them."""
    if re.match(r"\s*(?:[-–]?\s*(?:hours?|hrs?|beds?|weeks?|wks?|months?|days?|years?|miles?|%|\+|tenants?|others?"
                r"|times?|flats?|people with|to \d)|(?:st|nd|rd|th)\b"
                r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*|/)", after, re.I):
        return None
    best: tuple[int, str] | None = None
    before = re.sub(r"\([^()]*\)", " ", before)  # "Discharged (since stocktake) 3": an aside in the label
    before = re.sub(r"\(\s*n\s*=\s*$", " ", before, flags=re.I)  # "Discharged (n=3)"
    for field, pat in PREDICATES:
        for m in pat.finditer(after):
            d = m.start()
            if best is None or d < best[0]:
                best = (d, field)
            break
        tail = list(pat.finditer(before))
        if tail and re.fullmatch(r"\w*(?:\s+[\w@]+){0,6}?[\s:=(\-–|]*", before[tail[-1].end():]):
            d = 0 if field == NBJ else len(before) - tail[-1].end()  # "will not be discharged by June: 3"
            if best is None or d < best[0]:
                best = (d, field)
    if REPORTED.search(before):
        return None  # "(we reported seven in January)": an earlier return's figure
    if re.search(r"\b(?:will|to) be discharged\b", before, re.I) and not re.search(r"\bnot\b|n't", before, re.I):
        return None  # "Will be discharged by 1 June: 1": people still in hospital, not a count of its own
    if best is not None and best[1] == SKIP and re.match(r"\s*will be discharged (?:after|beyond)", after, re.I):
        return NBJ  # "two will be discharged after June"
    if best is None or best[1] == SKIP:
        return None
    if best[1] == HOSP and PREDICATES[0][1].search(after):
        return NBJ  # "four remaining will not be discharged by June": the June statement is the more specific
    return best[1]


def extract_counts(text: str) -> dict[str, int | None]:
    """The three counts the update states; None for a count it does not state. The first statement wins."""
    nlp, matcher = number_matcher()
    out: dict[str, int | None] = dict.fromkeys(COUNT_FIELDS)

    def put(field: str, value: int) -> None:
        if out[field] is None:
            out[field] = value

    def put_over(field: str, value: int) -> None:
        out[field] = value

    for line in str(text).split("\n"):
        if LABEL_LINE.match(line) and not re.search(
                    r"\b(?:discharged|disch|in hosp\w*|not by june)\b\s*[:=]?\s*\d", line, re.I):
            continue  # a person's own line: its numbers are about them
        if m := ALL_NOT.search(line):
            _none_of(line, m, put)
        if ALL_OUT.search(line):
            put(NBJ, 0)
        if re.search(r"\bno discharges\b(?!\s+(?:are |were )?(?:expected|planned|due|will|before|by)\b)", line, re.I):
            put(DIS, 0)
        if NO_ONE_IN.search(line) and not re.search(r"stocktake", line[NO_ONE_IN.search(line).end():][:30], re.I):
            put(HOSP, 0)
        if re.search(r"\bnobody who will still be in hospital\b", line, re.I):
            put(NBJ, 0)
        line = re.sub(r"(?<=\s)[x×](?=\d{1,2}\b)", " ", line)  # "D/C x3": three discharged
        doc = nlp(line)
        for _, s, e in sorted(matcher(doc), key=lambda m: m[1]):
            span = doc[s:e]
            value = _value(span.text)
            if value is None:
                continue
            start, end = span.start_char, span.end_char
            if re.search(r"[/\d.:]$", line[:start]) or re.match(r"[/:.]\d|[-–]\d", line[end:]):
                continue  # part of a date, a ratio or a section number
            if re.search(r"(?:\bsection|\bsec|\bs)\.?\s*$|\b(?:person|patient|pt|client|individual|service user"
                         r"|young person|case|no)\.?\s*$", line[:start], re.I):
                continue  # "under section 3": a section of the Mental Health Act; "Patient 5": a label
            if re.search(r"\bno[\s-]$", line[:start], re.I):
                continue  # the 'one' of 'no one' / 'no-one', read as 0 above
            if re.search(r"\b(?:of the|of our|of these|of those)\s*$", line[:start], re.I):
                continue  # "of the three who remain": the head of a partition, read below
            before, after = _clause(line, start, end)
            field = classify_number(before, after)
            if field == HOSP and COHORT.search(after + before) and not re.search(r"now|still|remain", after + before,
                                                                                 re.I):
                continue
            if field is None and ALL_LEFT.match(after) and not re.search(r"\b(?:not|none|will)\b", after, re.I):
                field = DIS
            if field:
                put(field, value)
        _totals(line, put_over)
        for m in re.finditer(r"\bof the (\w+) (?:people |who )?(?:remain\w*|are still|still)(?: in hospital)?\b",
                             line, re.I):
            if (n := _value(m.group(1))) is not None:
                put(HOSP, n)
    return out


def _none_of(line: str, m: re.Match, put) -> None:
    """'none of the four has yet been discharged' (0 out, four still in); 'neither of them will be discharged
    by June' (both not by June: two); 'none of them ...' counts the number stated just before."""
    word = (m.group(1) or "them").lower()
    n = _value(word)
    if n is None and word in ("them", "these", "those", "us"):
        if m.group(0).lower().startswith("neither"):
            n = 2
        else:
            nlp, matcher = number_matcher()
            doc = nlp(line[:m.start()])
            nums = [v for _, s, e in matcher(doc) if (v := _value(doc[s:e].text))]
            n = nums[-1] if nums else None
    if n is None:
        return
    sentence = re.split(r"(?<=[.!?])\s", line[m.end():])[0]
    if re.search(r"\b(?:has|have)\s+(?:yet\s+|so far\s+|now\s+)?been discharged", sentence, re.I):
        put(DIS, 0)
        put(HOSP, n)
    elif re.search(r"\b(?:by|before)\b", sentence, re.I):
        verb = sentence[:60].lower()
        if "discharged" in verb and "will" not in verb and "by" not in verb.split("discharged")[0]:
            put(DIS, 0)
        else:
            put(NBJ, n)
            if re.search(r"other|remaining|those", m.group(0), re.I):
                put(HOSP, n)


def _totals(line: str, put_over) -> None:
    """A total or a corrected figure ('making three in all', 'the correct number is four') replaces the count
    its sentence is about: the first count predicate of the sentence before it."""
    for m in TOTAL.finditer(line):
        n = _value(m.group(1))
        if n is None:
            continue
        start = max((x.end() for x in re.finditer(r"[.!?]\s", line[:m.start()])), default=0)
        head = line[start:m.start()]
        hits = [(h.start(), f) for f, pat in TOTAL_OF.items() for h in [pat.search(head)] if h]
        if hits:
            put_over(min(hits)[1], n)


def check_count(value: object) -> int | None:
    """A count cell: a whole number of people, 0 or more, or blank (not stated). Raises ValueError."""
    v = str(value if value is not None else "").strip()
    if not v:
        return None
    if re.fullmatch(r"\d+(?:\.0+)?", v):
        return int(float(v))
    raise ValueError(f"{v!r} is not a count of people (a whole number, 0 or more)")
