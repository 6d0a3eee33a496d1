"""Rules that read an update's plain words where the classifier is weakest, applied after it.

The classifier scores each reason code on its own and keeps the codes it is confident of, so a person with
two or three reasons (a restricted patient who is also not clinically ready) often gets only one. Some
reasons have wording that names them outright ("ordinary residence", "Court of Protection", "family want
him nearer home"); where the text says so, the code is added. The cues follow the codebook's definitions
(update-2014.yaml Q7): a restricted patient's tribunal is 2, not 6; an ordinary residence dispute about who
pays for s117 aftercare is 5, with 4 only for a separate funding disagreement (CHC, the council/CCG split).

A person the model calls discharged or due out by June, whose own text gives an estimated discharge month
after June 2014 and says nothing of having left, will not be out by June (Q5 = 0): the record is changed
and routed to review, never left silently contradictory.
"""

from __future__ import annotations

import re

_KIN = r"(?:family|parents?|mother|father|mum|dad|sister|brother|carers?)"
REASON_CUES: dict[str, re.Pattern] = {
    "2": re.compile(r"\bMoJ\b|Ministry of Justice|\b37/41|\b47/49|(?<!not a )(?<!not )\brestricted\b"
                    r"|restriction order|order with restrictions", re.I),
    "3": re.compile(r"clinically ready|too unwell|(?:still|active|ongoing|continuing) (?:in |receiving )?treatment"
                    r"|treatment (?:is )?(?:ongoing|continuing)|(?<!family )(?<!parents )not (?:yet )?ready"
                    r"|deteriorat|\bunwell\b|still being assessed|assessment (?:is )?not complete|mental state"
                    r"|\btx\b|further rehabilitation", re.I),
    "4": re.compile(r"\bCHC\b[^.;|\t]{0,40}(?:decision|panel|awaited|not agreed|eligib|dispute)"
                    r"|fund\w*[^.;|\t]{0,40}(?:not (?:yet )?agreed|dispute|unresolved|awaited|decision|split|disagree)"
                    r"|who pays|who (?:will )?fund|split of (?:her |his |the )?(?:care )?costs"
                    r"|commissioning responsibility|who commissions", re.I),
    "5": re.compile(r"(?i:ordinary residence)|\bOR\b"),
    "6": re.compile(r"Court of Protection|\bCoP\b|\bDoLS\b|best interests|deputyship", re.I),
    "7": re.compile(rf"{_KIN}\b[^.;|\t]{{0,30}}(?:want|wish|oppos|prefer|unsure|not (?:yet )?ready|asked|request)"
                    r"|(?:wants?|wishes|chose|prefers?) to (?:stay|remain|wait)|does(?: not|n't) want"
                    r"|not want to (?:leave|move)|(?:his|her|their|person's) (?:own )?wish", re.I),
    "8": re.compile(r"recruit|workforce|vacanc|cannot (?:take|start|staff)|train(?:ing|ed)? (?:a |its |the )?team"
                    r"|staffing", re.I),
    "9": re.compile(r"phased|\d+[- ]week (?:plan|transition)", re.I),
}
TRIBUNAL = re.compile(r"tribunal", re.I)
FUNDING_APART = re.compile(r"\bCHC\b|split", re.I)
LEFT = re.compile(r"discharg|disch|\bd/c\b|moved|\bleft\b|came out|returned|went (?:home|to)|now lives|living in"
                  r"|since (?:discharge|leaving)", re.I)
MILESTONE = "2014-06"


def cue_codes(text: str) -> set[str]:
    """Reason codes the text names in so many words (see the module docstring for the codebook's rules)."""
    codes = {c for c, pat in REASON_CUES.items() if pat.search(text)}
    if TRIBUNAL.search(text) and "2" not in codes:
        codes.add("6")  # an unrestricted patient's tribunal is legal process
    if "5" in codes and "4" in codes and not FUNDING_APART.search(text):
        codes.discard("4")  # OR disputes over who pays are 5 only
    return codes


def add_reasons(codes: str, text: str, blank: str = "NR") -> str:
    """The model's reason codes (`;`-joined) with the codes the text names added, in code order."""
    have = {c for c in str(codes).split(";") if c and c != blank}
    both = have | cue_codes(text)
    if not both:
        return codes
    return ";".join(sorted(both, key=int))


def late_by_date(status: str, month: str, text: str) -> bool:
    """True when a person called discharged (1) or due out by June (3) has an estimated month after June 2014
    and their text says nothing of having left: they will not be out by June."""
    if status not in ("1", "3") or not month or month <= MILESTONE:
        return False
    return status == "3" or not LEFT.search(text)
