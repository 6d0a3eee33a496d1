"""Split an area's update into person records: who the text talks about, and the passages about each.

Updates come as prose, bullet lists, pasted tables (pipes or tabs), terse notes, or a mix. The text is cut
into *units*: a table row, a bullet, a short note line that starts with a label, or else one sentence of a
prose paragraph (spaCy's rule-based sentencizer, no model download). A unit belongs to the first person
label it mentions; a prose sentence that names nobody ("He is subject to section 37/41.") continues the
person of the sentence before it in the same paragraph. Labels are found two ways: strong forms anywhere
("Person A", "Pt 3", "Service user 2", "Mr X", "J.B.", "'Tom'"), and short forms only at the head of a
row, bullet or note ("AB –", "K –", "P04 |", "Darren<TAB>").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from coder.text import sentencizer

_WORD_LABEL = r"(?:Person|Patient|Pt|Client|Individual|Service user|Case|Resident|Young person|(?i:service user))"
STRONG = re.compile(
    rf"\b{_WORD_LABEL}\s?(?:[A-Z]{{1,2}}|\d{{1,3}})\b(?!\s*/)"
    r"|\b(?:Mr|Ms|Mrs|Miss)\s+[A-Z]{1,2}(?:\.(?:Mc|O')?[A-Z]{1,2})*\.?(?![\w])"
    r"|(?<![\w.])[A-Z]\.(?:Mc|O')?[A-Z][a-z]?\.(?:[A-Z]\.)?(?![\w])"
    r"|\bSU\d{1,2}\b|\bNL\d{2}\b"
)
QUOTED = re.compile(r"['‘]([A-Z][a-z]{0,12})['’](?!\w)")
HEAD = re.compile(r"^(?:[A-Z]{1,2}\d{0,3}|[A-Z][a-z]{2,12})(?=['’]?\s*(?:[–—:|\t(]|-\s|\s-|,\s))")
CELL = re.compile(r"^(?:[A-Z]{1,3}\d{0,3}|[A-Z][a-z]{1,12})$")  # a table's first cell: 'AB', 'P04', 'Darren'
INITIALS = re.compile(r"^[A-Z]{2}(?=\s+(?:[a-z]|→|&))")  # 'AH disch 9/13', 'GC and HL were discharged'
BARE = re.compile(r"(?<![\w.'&/-])[A-Z]{2}(?![\w'&/-])")
BULLET = re.compile(r"^\s*(?:[•*·▪◦‣]|[-–—](?=\s)|\d{1,2}[.)](?=\s)|\(\w\))\s*")
STOP = {"Summary", "Plan", "Numbers", "Name", "Ref", "ID", "Who", "Initials", "Status", "Note", "Notes", "Total",
        "Totals", "Update", "Client", "Person", "Patient", "Individual", "Case", "Key", "LAP", "HWB", "MoJ", "NB",
        "Est", "Also", "Local", "Cohort", "Headline", "Headlines", "In", "Out", "Date", "Dates", "Our", "The",
        "We", "All", "One", "Two", "Three", "Four", "Five", "Six", "None", "Of", "Since", "Discharged", "Yes", "No",
        "CCG", "LA", "SL", "ATU", "LSU", "PHB", "CHC", "RC", "CPA", "OR", "DoLS", "CoP", "TBC", "Q1", "Q2", "Q3",
        "Q4", "A&T", "Area", "Region", "Return", "Progress", "People", "Comment", "Comments", "Reason", "Reasons",
        "Barrier", "Package", "Setting", "Where", "Why", "Next", "Action", "Actions", "Position", "Current",
        "Section", "Remaining", "Stocktake", "Hospital", "Inpatient", "Inpatients", "Community",
        "Individuals", "Overview", "Context", "Disch", "Nil", "NHS", "IMHA", "IMCA", "LD", "AT", "OT",
        "PBS", "ASC", "NE", "UK", "OK", "WV"}


@dataclass
class Unit:
    """A piece of the text a person record can be built from: a row, a bullet, a note line or a sentence."""

    text: str
    line: int
    kind: str  # row / bullet / note / sentence
    head: str = ""  # the label at its head, if any
    header: bool = False  # the first row of a table


@dataclass
class PersonRecord:
    """One person an update mentions: their label and the units about them (the evidence)."""

    locality: str
    person: str
    units: list[Unit] = field(default_factory=list)

    @property
    def evidence(self) -> str:
        return " ".join(u.text.strip() for u in self.units)




def is_row(line: str) -> bool:
    return "\t" in line.strip() or line.count("|") >= 2


def row_cells(line: str) -> list[str]:
    cells = re.split(r"\t|\|", line.strip().strip("|"))
    return [c.strip() for c in cells]


def _head_label(text: str, allow_short: bool, cell: bool = False, stop: frozenset = frozenset()) -> str:
    s = BULLET.sub("", text).lstrip(" '‘\"“")
    m = STRONG.match(s)
    if m:
        return m.group(0).strip()
    q = re.match(r"['‘]([A-Z][a-z]{0,12})['’]", BULLET.sub("", text).strip())
    if q:
        return q.group(1)
    for pattern, ok in ((CELL, cell), (HEAD, allow_short), (INITIALS, True)):
        m = pattern.match(s) if ok else None
        if m and m.group(0).strip() not in STOP and m.group(0).strip() not in stop:
            return m.group(0).strip()
    return ""


def units_of(text: str, stop: frozenset = frozenset()) -> list[Unit]:
    """Cut an update into rows, bullets, note lines and prose sentences, in reading order.

    `stop`: words that are never person labels here (the area's own name)."""
    out: list[Unit] = []
    lines = str(text).replace("\r\n", "\n").split("\n")
    prev_row = False
    for i, raw in enumerate(lines):
        line = raw.rstrip()
        if not line.strip():
            prev_row = False
            continue
        if is_row(line):
            cells = [c for c in row_cells(line)]
            if all(re.fullmatch(r":?-{2,}:?", c) or not c for c in cells):
                continue  # a Markdown rule line
            first = next((c for c in cells if c), "")
            head = _head_label(first, True, cell=True, stop=stop) if len(first) <= 30 else ""
            out.append(Unit(line.strip(), i, "row", head, header=not prev_row and not head))
            prev_row = True
            continue
        prev_row = False
        bullet = bool(BULLET.match(line))
        head = _head_label(line, True, stop=stop)
        if bullet or (head and len(line) < 260 and not STRONG.match(line.strip())) or \
                (head and re.match(r"^\s*\S+(?:\s\S+)?\s*[–—:-]\s", BULLET.sub("", line))):
            out.append(Unit(line.strip(), i, "bullet" if bullet else "note", head))
            continue
        # the sentencizer gives an opening quote to the sentence before ("... 2014. 'Jo' is ..."): cut there first
        for piece in re.split(r"(?<=[.!?])\s+(?=['‘][A-Z])", line.strip()):
            for sent in sentencizer()(piece).sents:
                s = sent.text.strip()
                if s:
                    out.append(Unit(s, i, "sentence", _head_label(s, False, stop=stop)))
    return out


def labels_of(units: list[Unit]) -> list[str]:
    """The person labels an update uses, in order of first appearance."""
    seen: dict[str, int] = {}
    bare = any(u.kind == "sentence" and re.fullmatch(r"[A-Z]{2}", u.head) for u in units)
    for n, u in enumerate(units):
        if u.header:
            continue
        found = []
        if u.head:
            found.append((0, u.head))
        for m in STRONG.finditer(u.text):
            found.append((m.start(), m.group(0).strip()))
        for m in QUOTED.finditer(u.text):
            if m.group(1) not in STOP:
                found.append((m.start(), m.group(1)))
        if bare:  # an area that names people by initials in prose names them mid-sentence too
            for m in BARE.finditer(u.text):
                if m.group(0) not in STOP:
                    found.append((m.start(), m.group(0)))
        for _, lab in sorted(found):
            seen.setdefault(lab, n)
    return [lab for lab, _ in sorted(seen.items(), key=lambda kv: kv[1])]


def _mentions(text: str, label: str) -> int:
    """Where `label` first occurs in `text` as a whole word, else -1."""
    m = re.search(r"(?<![\w.])['‘]?" + re.escape(label) + r"(?![\w])", text)
    return m.start() if m else -1


def _joined(text: str, who: str, labels: list[str]) -> list[str]:
    """Labels joined to `who` by 'and' / '&' / ',' at the same place: each shares the unit."""
    out = []
    pos = _mentions(text, who)
    rest = text[pos + len(who) + (1 if text[pos:pos + 1] in "'‘" else 0):]
    while True:
        m = re.match(r"['’]?\s*(?:,|and|&)\s*['‘]?", rest)
        if not m:
            return out
        nxt = next((lab for lab in labels if lab != who and lab not in out and
                    re.match(re.escape(lab) + r"(?![\w])", rest[m.end():])), None)
        if nxt is None:
            return out
        out.append(nxt)
        rest = rest[m.end() + len(nxt):]


def split_people(locality: str, text: str) -> list[PersonRecord]:
    """Person records of one update, in order of first mention (none when the text lists nobody)."""
    units = units_of(text, stop=frozenset(str(locality).split()))
    labels = labels_of(units)
    records = {lab: PersonRecord(locality, lab) for lab in labels}
    current: str | None = None
    current_line = -1
    for u in units:
        if u.header:
            current = None
            continue
        who = u.head if u.head in records else None
        if who is None:
            hits = [(p, lab) for lab in labels if (p := _mentions(u.text, lab)) >= 0]
            # a longer label wins at the same place ("Mr A.B." over "A.B.")
            who = min(hits, key=lambda h: (h[0], -len(h[1])))[1] if hits else None
        if who is None and u.kind == "sentence" and u.line == current_line and current:
            who = current
        if who is not None:
            records[who].units.append(u)
            for other in _joined(u.text, who, labels):  # "Patient 2 and Patient 3 moved together"
                records[other].units.append(u)
            current, current_line = who, u.line
        else:
            current = None
    return [r for r in records.values() if r.units]
