"""Counts and dates from update text, by rule: spaCy's Matcher for numbers, patterns and `dateparser` for dates.

Dates are coded to the month, `YYYY-MM`, the way the codebook (update-2014.yaml, Q8) says: a vague date is
the LAST month of the window it names ("autumn 2014" -> 2014-11, "Q3 14/15" -> 2014-12), "before June" is May,
a range takes its later end, and a month without a year is the nearest such month after the stocktake (people
discharged) or after the return (everyone else). A date that cannot be read is left blank, never guessed.
Counts live in coder.people.counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

RETURN_YEAR, RETURN_MONTH = 2014, 5  # the round's return month (May 2014)
STOCKTAKE_MONTH = 7  # months from July on are 2013 for people already discharged
MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
          "nov": 11, "dec": 12}
MON = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
       r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?(?![a-z])")
SEASONS = {"spring": (0, 5), "summer": (0, 8), "autumn": (0, 11), "winter": (1, 2)}
NO_DATE = re.compile(r"\b(?:not known|tbc|no date|no estimate|not estimated|cannot (?:give|estimate)"
                     r"|can't (?:give|estimate)"
                     r"|unknown|not yet clear|to be decided|to be determined|date can be given|date has not been agreed"
                     r"|no discharge date)\b", re.I)


@dataclass
class DateHit:
    start: int
    end: int
    year: int | None
    month: int
    rule: str


def _year(y: str | None) -> int | None:
    if not y:
        return None
    y = int(y)
    return y + 2000 if y < 100 else y


def _mon(s: str) -> int:
    return MONTHS[s.lower()[:3]]


PATTERNS: list[tuple[str, re.Pattern]] = [
    ("quarter", re.compile(r"\bQ([1-4])\s*(?:20)?(\d{2})\s*/\s*(\d{2})\b", re.I)),
    ("season", re.compile(r"\b(?:(?:early|late|end of|by the end of)\s+(?:the\s+)?)?(spring|summer|autumn|winter)"
                          r"(?:\s+(?:of\s+)?((?:20)?1\d))?\b", re.I)),
    ("part-year", re.compile(r"\b(early|late|end of|by the end of|end)\s+(20\d\d|1[3-9])\b", re.I)),
    ("christmas", re.compile(r"\bchristmas\b", re.I)),
    ("this-year", re.compile(r"\b(?:later (?:this|in the) year|end of (?:the|this) year|this year)\b", re.I)),
    ("new-year", re.compile(r"\bnew year\b", re.I)),
    ("day-month", re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({MON})(?:\s+(20\d\d|\d{{2}}(?![\d:/])))?", re.I)),
    ("month-year", re.compile(rf"\b({MON})[\s\-']*((?:20)?1\d)(?![\d/:])", re.I)),
    ("month", re.compile(rf"\b({MON})", re.I)),
    ("d/m/y", re.compile(r"(?<![\w/])(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})(?![\w/])")),
    ("m/yyyy", re.compile(r"(?<![\w/])(\d{1,2})/(20\d\d)(?![\w/])")),
    ("a/b", re.compile(r"(?<![\w/.])(\d{1,2})/(\d{1,2})(?![\w/])")),
    ("d.m.yy", re.compile(r"(?<![\w./])(\d{1,2})\.(\d{1,2})\.(1[3-6])(?!\w|\.\d)")),
    ("m.yy", re.compile(r"(?<![\w./])(\d{1,2})\.(1[3-6])(?!\w|\.\d)")),
    ("year", re.compile(r"(?<![\w/])(20\d\d)(?![\w/])")),
]


def _parse_day_month(span: str) -> int | None:
    """The month of '27 May' or '14 November 2013', read by dateparser (day first, British)."""
    import dateparser

    d = dateparser.parse(span, languages=["en"], settings={"DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first",
                                                          "RELATIVE_BASE": datetime(RETURN_YEAR, RETURN_MONTH, 1)})
    return d.month if d else None


def find_dates(text: str) -> list[DateHit]:
    """Every date expression in `text`, earliest first (overlapping spans: the first rule listed wins)."""
    taken = [False] * len(text)
    hits: list[DateHit] = []
    for rule, pat in PATTERNS:
        for m in pat.finditer(text):
            if any(taken[m.start():m.end()]):
                continue
            hit = _hit(rule, m, text)
            if hit is None:
                continue
            hits.append(hit)
            for i in range(m.start(), m.end()):
                taken[i] = True
    return sorted(hits, key=lambda h: h.start)


def _hit(rule: str, m: re.Match, text: str) -> DateHit | None:
    g = m.groups()
    s, e = m.start(), m.end()
    if rule == "quarter":
        q, y1 = int(g[0]), 2000 + int(g[1])
        return DateHit(s, e, y1 + 1 if q == 4 else y1, {1: 6, 2: 9, 3: 12, 4: 3}[q], rule)
    if rule == "season":
        add, month = SEASONS[g[0].lower()]
        y = _year(g[1])
        return DateHit(s, e, y + add if y else None, month, rule)
    if rule == "part-year":
        return DateHit(s, e, _year(g[1]), 3 if g[0].lower() == "early" else 12, rule)
    if rule == "christmas":
        return DateHit(s, e, None, 12, rule)
    if rule == "this-year":
        return DateHit(s, e, RETURN_YEAR, 12, rule)
    if rule == "new-year":
        return DateHit(s, e, RETURN_YEAR + 1, 1, rule)
    if rule == "day-month":
        if int(g[0]) > 31:
            return None
        month = _parse_day_month(f"{g[0]} {g[1].rstrip('.')}") or _mon(g[1])
        return DateHit(s, e, _year(g[2]), month, rule)
    if rule in ("month-year", "month"):
        word = g[0].rstrip(".")
        if word.lower().startswith("may") and (word == "may" or rule == "month" and word != "May"):
            return None  # 'may' the verb
        if word.lower().startswith("mar") and not word[0].isupper():
            return None
        return DateHit(s, e, _year(g[1]) if rule == "month-year" else None, _mon(word), rule)
    if rule == "d/m/y":
        d, mo = int(g[0]), int(g[1])
        return DateHit(s, e, _year(g[2]), mo, rule) if d <= 31 and 1 <= mo <= 12 else None
    if rule == "m/yyyy":
        mo = int(g[0])
        return DateHit(s, e, int(g[1]), mo, rule) if 1 <= mo <= 12 else None
    if rule == "a/b":
        a, b = int(g[0]), int(g[1])
        if re.search(r"(?:\bs|section|sec)\.?\s*$", text[max(0, s - 9):s], re.I) or (a, b) == (24, 7):
            return None  # s37/41, 24/7
        if 1 <= a <= 12 and 13 <= b <= 16:
            return DateHit(s, e, 2000 + b, a, rule)  # 12/13: December 2013
        if 1 <= a <= 31 and 1 <= b <= 12:
            return DateHit(s, e, None, b, rule)  # 23/05: 23 May
        return None
    if rule == "d.m.yy":
        mo = int(g[1])
        return DateHit(s, e, 2000 + int(g[2]), mo, rule) if 1 <= mo <= 12 else None
    if rule == "m.yy":
        a = int(g[0])
        return DateHit(s, e, 2000 + int(g[1]), a, rule) if 1 <= a <= 12 else None
    if rule == "year":
        y = int(g[0])
        if not 2013 <= y <= 2020 or re.search(r"/\s*$", text[:s]) or re.match(r"\s*[/–-]\s*\d", text[e:]):
            return None
        return DateHit(s, e, y, 12, rule)
    return None


STRONG_CUE = re.compile(r"(?:\best\b\.?|estimat\w*|expect\w*|target\w*|pencil\w*|aim\w*|planned for|working date"
                        r"|anticipat\w*|likely|hope\w*|discharge date|due|earliest|(?:will|to) be discharged"
                        r"|discharged? on|moves?|moving)[^.;|\t]{0,40}$", re.I)
WEAK_CUE = re.compile(r"(?:admi(?:tted|ssion)|readmitted|tribunal|hearing|listed|signed|review\w*|meeting|board"
                      r"|panel|sentence|birthday|stocktake|since (?:the )?stocktake|started|start(?:ed)? in"
                      r"|leave (?:programme|from)|granted|from|approved)\s+(?:\w+\s+){0,3}$", re.I)


def _resolve(hit: DateHit, discharged: bool) -> str:
    y, m = hit.year, hit.month
    if y is None:
        if discharged:
            y = 2013 if m >= STOCKTAKE_MONTH else 2014
        else:
            y = RETURN_YEAR if m >= RETURN_MONTH else RETURN_YEAR + 1
    return f"{y:04d}-{m:02d}"


def _adjust(hit: DateHit, text: str) -> DateHit:
    """'before June' is May; 'not before 2016' is January 2016; a range keeps its later end (done by caller)."""
    before = text[max(0, hit.start - 20):hit.start].lower()
    if re.search(r"(?<!not )\bbefore\s+(?:the\s+)?(?:1(?:st)?\s+)?$", before) and hit.rule in ("month", "day-month"):
        m = hit.month - 1 or 12
        return DateHit(hit.start, hit.end, hit.year, m, hit.rule)
    if hit.rule == "year" and re.search(r"\b(?:not )?(?:before|until)\s+(?:the\s+)?$", before):
        return DateHit(hit.start, hit.end, hit.year, 1, hit.rule)
    return hit


def _milestone(hit: DateHit, text: str) -> bool:
    """'not by June', 'leave before June': the milestone itself, not the person's date."""
    if hit.month != 6 or hit.year not in (None, RETURN_YEAR):
        return False
    before = text[max(0, hit.start - 40):hit.start].lower()
    return bool(re.search(r"(?:\bnot\b|n't|unlikely|whether)[^.;|\t]{0,30}\b(?:by|before)\s+(?:1\s+|the\s+)?$", before))


def extract_date(text: str, discharged: bool) -> str:
    """The person's (estimated) discharge month, `YYYY-MM`, or "" when the text gives none.

    `discharged`: the person has already left hospital (months without a year are read as after the
    stocktake, and the first date is the one they left); otherwise the last or the estimated date counts.
    """
    hits = [_adjust(h, text) for h in find_dates(text) if not _milestone(h, text)]
    if not hits:
        return ""
    # a range ("August/September", "end of 2014 to early 2015") keeps its later end
    merged: list[DateHit] = []
    for h in hits:
        if merged and re.fullmatch(r"\s*(?:/|-|–|to|or)\s*", text[merged[-1].end:h.start]):
            prev = merged[-1]
            y_prev, y_h = prev.year or h.year, h.year or prev.year
            if (y_h or 0, h.month) >= (y_prev or 0, prev.month):
                merged[-1] = DateHit(prev.start, h.end, y_h, h.month, h.rule)
            continue
        merged.append(h)
    cued = [h for h in merged if STRONG_CUE.search(text[max(0, h.start - 45):h.start])]
    if cued and not discharged:
        return _resolve(cued[-1], discharged)
    no_date = NO_DATE.search(text[merged[-1].end:])
    if no_date and no_date.group(0).lower() != "tbc":
        return ""
    plain = [h for h in merged if not WEAK_CUE.search(text[max(0, h.start - 30):h.start])] or merged
    return _resolve(plain[0] if discharged else plain[-1], discharged)


def check_month(value: str) -> str:
    """A date cell as the codebook wants it (`YYYY-MM` or blank); raises ValueError with a one-line reason."""
    v = str(value or "").strip()
    if not v:
        return ""
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", v)
    if not m or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
        raise ValueError(f"{v!r} is not a month (write YYYY-MM, e.g. 2014-09)")
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"
