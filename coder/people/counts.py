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
figures may follow a dash or sit in the next table cell; numbers that are labels ("Patient 5", "ward 3"),
sections of the Mental Health Act ("section 3"), years, ages, ranges ("2-3") or counts of other things (beds,
meetings, staff, "80%") are never counts, and the figure a revision replaces ("now 4, not 3") is not either.

Counts come in parts and in tables too: a count split by commissioner ("Discharged: CCG 2 + NHSE 3") is stated as
its sum, a table's totals row under headers that name the counts is the area's count, "discharged 3/6" is three,
and a number whose clause has no predicate shares the one that follows "and" ("the last two are restricted
patients and will not be out by June"). The rules were tuned on bench/update-counts-dev (a development set) and
the bundled train split only; bench/bench_counts_dev.py prints both.
"""

from __future__ import annotations

import re
from functools import lru_cache

COUNT_FIELDS = ("discharged_count", "in_hospital_count", "not_by_june_count")
WORDS = {"none": 0, "nobody": 0, "no one": 0, "neither": 0, "zero": 0, "nil": 0, "one": 1, "two": 2, "both": 2,
         "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
         "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
         "eighteen": 18, "nineteen": 19, "twenty": 20}
NUMBER_WORDS = "|".join(w for w in WORDS if " " not in w)
DIS, HOSP, NBJ, SKIP = "discharged_count", "in_hospital_count", "not_by_june_count", "skip"
BOUNDARY = re.compile(r"[;|.](?!\d)|\s/\s|,\s|\s(?:and|but)\s|\s[–—-]\s")
PREDICATES: list[tuple[str, re.Pattern]] = [
    (NBJ, re.compile(r"will not|won't|not be discharged|not discharged|not by (?:1 )?ju|not out by"
                     r"|still be in hospital on"
                     r"|remain in hospital after|after (?:1 )?june|after the milestone|will not leave|\bare not\b"
                     r"|\bnot\s*$|not\.|\bnot\b(?=\s*\))|miss\w* the|beyond (?:1 )?june|post-?june|not (?:meet|make)\b"
                     r"|will still be in", re.I)),
    (SKIP, re.compile(r"will (?:be|do|have|move|both)|\bshould\b|to be discharged|\bdue\b|one more|further"
                      r"|confirmed moves"
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
                      r"|hospital now|\bin\s*$|^\s*(?:more\s+)?to go\b", re.I)),
    (DIS, re.compile(r"discharg|disch|d/c|\bout\b(?![- ]of[- ](?!hospital))|returned|moved"
                     r"|(?:living|live|settled) in the community|into the community|moved on"
                     r"|\b(?:have|has)\s+(?:now\s+|since\s+|all\s+|both\s+|already\s+)*left"
                     r"|^\s*left\s+(?:hospital|in\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|20\d\d)|during"
                     r"|last|since|on\s+\d)", re.I)),
]
ALL_NOT = re.compile(r"\b(?:none|neither)(?: of (?:the |our |those |these )?(?:other |remaining )?(\w+))?\b", re.I)
COMMISSIONER = r"(?:CCGs?|NHSE|NHS England|LA|council|local authority|spec(?:ialised)? comm\w*)"
COMMISSIONERS = re.compile(rf"\b{COMMISSIONER}\s*\d{{1,2}}(?:\s*(?:\+|,|and|&)\s*{COMMISSIONER}\s*\d{{1,2}})+\b")
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
                     r"|on track for discharge|leave hospital before|will both"
                     r"|(?:should|will|expected to) be (?:out|discharged|home) (?:by|before) (?:the end of may|1 june"
                     r"|june\b(?! is out)))"
                     r"|\bboth out by june", re.I)


@lru_cache(maxsize=1)
def number_matcher():
    """spaCy rule matcher for stated numbers: digits, number words, 'none' / 'nobody' / 'no one'."""
    import spacy
    from spacy.matcher import Matcher

    nlp = spacy.blank("en")
    matcher = Matcher(nlp.vocab)
    matcher.add("NUMBER", [[{"LIKE_NUM": True}], [{"LOWER": {"IN": ["none", "nobody", "neither", "nil", "both"]}}],
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


def not_people(after: str) -> bool:
    """The number counts something other than people: "6 beds", "12 weeks", "80%", "3rd", "May"."""
    return bool(re.match(r"\s*(?:[-–]?\s*(?:hours?|hrs?|beds?|weeks?|wks?|months?|days?|years?|miles?|%|\+|tenants?"
                         r"|others?|times?|flats?|people with|to \d|meetings?|reviews?|staff|support workers?"
                         r"|workers?|posts?|vacanc\w*|places?|units?|wards?|sessions?|visits?|calls?)"
                         r"|(?:st|nd|rd|th)\b|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*"
                         r"|/(?!\d{1,2}\b(?![/.]\d)))", after, re.I))


def _tail(pat: re.Pattern, before: str) -> int | None:
    """Where the label a number follows ends ("Discharged since stocktake: 3", "In-patients: nil"), or None.

    Every match is tried, not only the non-overlapping ones, so " In" does not hide "In-patients"."""
    ends = [m.end() for i in range(len(before)) if (m := pat.match(before, i))]
    fits = [e for e in ends if re.fullmatch(r"\w*(?:\s+[\w@/]+){0,6}?[\s:=(\-–|]*(?:(?:all|just|only)\s+)?", before[e:],
                                            re.I)]
    return max(fits) if fits else None


def classify_number(before: str, after: str) -> str | None:
    """Which count a number states, from its clause; None when it states none of them."""
    if not_people(after):
        return None
    best: tuple[int, str] | None = None
    before = re.sub(r"\([^()]*\)", " ", before)  # "Discharged (since stocktake) 3": an aside in the label
    before = re.sub(r"\(\s*n\s*=\s*$", " ", before, flags=re.I)  # "Discharged (n=3)"
    # "In hospital: now 3", "the total discharged remains 4": the copula is not a predicate of its own
    before = re.sub(r"(?:\s(?:remains|stays|stands)(?:\s+(?:at|unchanged at))?|(?<=[:=])\s*(?:now|currently))\s*$",
                    " ", before, flags=re.I)
    for field, pat in PREDICATES:
        for m in pat.finditer(after):
            d = m.start()
            if best is None or d < best[0]:
                best = (d, field)
            break
        end = _tail(pat, before)
        if end is not None:
            d = 0 if field == NBJ else len(before) - end  # "will not be discharged by June: 3"
            if best is None or d < best[0]:
                best = (d, field)
    if REPORTED.search(before):
        return None  # "(we reported seven in January)": an earlier return's figure
    if re.search(r"\b(?:will|to) be discharged\b", before, re.I) and not re.search(r"\bnot\b|n't", before, re.I):
        return None  # "Will be discharged by 1 June: 1": people still in hospital, not a count of its own
    if best is not None and best[1] == SKIP and re.match(
            r"\s*will (?:still )?be (?:discharged|in hospital|an? in-?patients?) (?:after|beyond)", after, re.I):
        return NBJ  # "two will be discharged after June", "none will be in hospital after June"
    if best is not None and best[1] == SKIP and re.match(r"\s*(?:\w+\s+){0,2}expect\w* to miss", after, re.I):
        return NBJ  # "nobody is expected to miss the June date"
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

    text = COMMISSIONERS.sub(_sum_parts, str(text))
    for field, value in table_totals(text):
        put(field, value)
    for line in text.split("\n"):
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
            start, end = span.start_char, span.end_char
            if (m := re.fullmatch(r"([1-9]\d?)/([1-9]\d?)", span.text)) and RATIO_LABEL.search(line[:start]) \
                    and int(m.group(1)) <= int(m.group(2)) and not 13 <= int(m.group(2)) <= 16:
                end = start + len(m.group(1))  # "discharged 3/6": three of six (not "d/c 12/13", a month)
            value = _value(line[start:end])
            if value is None:
                continue
            if not_a_count(line, start, end):
                continue
            before, after = _clause(line, start, end)
            field = classify_number(before, after)
            if field == HOSP and COHORT.search(after + before) and not re.search(r"now|still|remain", after + before,
                                                                                 re.I):
                continue
            if field is None and ALL_LEFT.match(after) and not not_people(after) \
                    and not re.search(r"\b(?:not|none|will)\b", after, re.I):
                field = DIS
            and_then = _and_then(line, end)
            if field is None and and_then and not not_people(after):
                field = classify_number(before, after + " " + and_then)  # "the last two ... and will not be"
            elif field == HOSP and PREDICATES[0][1].search(and_then):
                put(NBJ, value)  # "the other 2 remain ... and will not be discharged by June": both counts
            elif field == NBJ and re.match(r"\s*(?:people |persons? |patients? )?still in\b", after, re.I):
                put(HOSP, value)  # "the one person still in hospital will not be discharged by June"
            if field:
                put(field, value)
        _totals(line, put_over)
        for m in re.finditer(r"\bof the (\w+) (?:people |who )?(?:remain\w*|are still|still)(?: in hospital)?\b",
                             line, re.I):
            if (n := _value(m.group(1))) is not None:
                put(HOSP, n)
    return out


RATIO_LABEL = re.compile(r"(?:discharg\w*|disch|out|in hosp\w*|still in|remaining)\s*[:=]?\s*$", re.I)


def not_a_count(line: str, start: int, end: int) -> bool:
    """The number at line[start:end] is not a count of people by its neighbours: a date, a section, a label, an
    age, a ward, a range, or the figure a revision replaces ("now 4, not 3")."""
    before, after = line[:start], line[end:]
    if RATIO_LABEL.search(before) and re.match(r"/\d{1,2}\b(?![/.]\d)", after):
        return False  # "discharged 3/6": three of six
    if re.search(r"[/\d.:]$", before) or re.match(r"[/:.]\d|[-–]\d", after):
        return True  # part of a date, a ratio or a section number
    if re.search(r"(?:\bsection|\bsec|\bs)\.?\s*$|\b(?:person|patient|pt|client|individual|service user"
                 r"|young person|case|no|ward|bed|room|bay|flat|house|level|floor|block|phase|stage)\.?\s*$", before,
                 re.I):
        return True  # "under section 3": a section of the Mental Health Act; "Patient 5", "ward 3": a label
    if re.search(r"\bno[\s-]$", before, re.I):
        return True  # the 'one' of 'no one' / 'no-one', read as 0 above
    if re.search(r"\b(?:of the|of our|of these|of those)\s*$", before, re.I):
        return True  # "of the three who remain": the head of a partition, read below
    if re.search(r"\bage[ds]?\s*:?\s*(?:\d{1,2}\s*(?:,|and|&)\s*)*$", before, re.I):
        return True  # "(aged 23 and 41)": ages
    if re.search(r"\d\s*[-–]\s*$|\b(?:\d{1,2}|" + NUMBER_WORDS + r")\s+or\s+$", before, re.I) or \
            re.match(r"\s+or\s+(?:\d|" + NUMBER_WORDS + r")\b", after, re.I):
        return True  # "2-3", "two or three": a range, not a count
    return bool(re.search(r"(?:\d|\b(?:" + NUMBER_WORDS + r"))\s*,?\s*(?:and\s+)?not\s*$", before, re.I))


def _and_then(line: str, end: int) -> str:
    """The predicate a number shares through 'and' when its own clause has none: "The last two are restricted
    patients and will not be out by June" gives "will not be out by June"; '' when there is none."""
    m = re.match(r"[^.;|]*?\s(?:and|but)\s+((?:will|won't|are|is|have|has|were|was|remain\w*|still)\b[^.;|,]*)",
                 line[end:], re.I)
    return m.group(1) if m else ""


def _sum_parts(m: re.Match) -> str:
    """'CCG 2 + NHSE 3' is one count stated in parts by commissioner: their sum."""
    return str(sum(int(n) for n in re.findall(r"\d+", m.group(0))))


def table_totals(text: str) -> list[tuple[str, int]]:
    """The counts of a table's totals row, under headers that name them:
    "| | Discharged | In hospital | Not by June |" ... "| Total | 3 | 4 | 2 |"."""
    fields: list[str | None] = []
    found = []
    for line in text.split("\n"):
        sep = "|" if line.count("|") >= 2 else "\t" if line.count("\t") >= 2 else None
        if sep is None:
            fields = []
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(sep)]
        named = [classify_number(c + " ", "") if c and not re.search(r"\d", c) else None for c in cells]
        if sum(f in (DIS, HOSP, NBJ) for f in named) >= 2:
            fields = named
        elif fields and cells and re.fullmatch(r"(?i)(?:grand )?totals?:?", cells[0]):
            for f, c in zip(fields, cells, strict=False):
                if f in (DIS, HOSP, NBJ) and (v := _value(c)) is not None:
                    found.append((f, v))
    return found


def _none_of(line: str, m: re.Match, put) -> None:
    """'none of the four has yet been discharged' (0 out, four still in); 'neither of them will be discharged
    by June' (both not by June: two); 'none of them ...' counts the number stated just before."""
    word = (m.group(1) or "them").lower()
    n = _value(word)
    if n is None and word in ("them", "these", "those", "us", "whom"):
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
