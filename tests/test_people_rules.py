"""Examples of the update round's extraction rules: counts written as words, totals and corrections, headline
figures in tables, reasons the text names outright, and a date after June overruling "out by June"."""

from __future__ import annotations

import pytest

from coder.people.counts import extract_counts
from coder.people.rules import add_reasons, cue_codes, late_by_date


def counts(text: str) -> tuple:
    c = extract_counts(text)
    return c["discharged_count"], c["in_hospital_count"], c["not_by_june_count"]


@pytest.mark.parametrize("text, expected", [
    # numbers written as words, and the words for nought
    ("Since last summer five people have left hospital and four are still in-patients.", (5, 4, None)),
    ("Nobody has been discharged yet; of the three people still in hospital, the remaining two will not be "
     "discharged by June.", (0, 3, 2)),
    ("Two people remain in hospital, and neither of them will be discharged by June.", (None, 2, 2)),
    ("There are no Wexcombe people in in-patient settings.", (None, 0, None)),
    ("We have no-one in hospital and no discharges to report.", (0, 0, None)),
    ("The two people named in the stocktake have both been discharged.", (2, None, None)),
])
def test_counts_written_as_words(text, expected):
    assert counts(text) == expected


@pytest.mark.parametrize("text, expected", [
    # a corrected figure: the first stated wins, the earlier return's figure in brackets is not a count
    ("People discharged: 6 (we reported 7 in January; one was a transfer between hospitals)", (6, None, None)),
    ("Our last return said four had been discharged, but the correct figure is three.", (3, None, None)),
    # an increment since the last return is not the count since the stocktake; the total that follows is
    ("Two more people have been discharged since our February return, bringing the total discharged to six.",
     (6, None, None)),
    ("In-patients – 4, plus a further one admitted in April (so five).", (None, 5, None)),
])
def test_totals_and_corrections_replace_what_they_correct(text, expected):
    assert counts(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Discharged since stocktake – 3\nStill in hospital – 2\nNot by 1 June – 1", (3, 2, 1)),
    ("| Discharged | 3 |\n| In hospital | 2 |\n| Post-June | 2 |", (3, 2, 2)),
    ("Discharged (since stocktake) 4 | Inpts 1", (4, 1, None)),
    ("D/C x3. Still in: 2.", (3, 2, None)),
    ("Two will miss the June deadline.", (None, None, 2)),
])
def test_headline_figures_after_a_dash_or_in_the_next_cell(text, expected):
    assert counts(text) == expected


@pytest.mark.parametrize("text", [
    "Patient 5 has a conditional discharge agreed in principle.",  # a label, not a count
    "He was readmitted under section 3 in January.",  # a section of the Act
    "Two young people in residential schools out of county will transfer to adult services in 2015.",
    "We expect to discharge one more before June.",  # a plan, not a count
    "Will be discharged by 1 June: 1",  # still in hospital, not one of the three counts
    "Three people on our at-risk register remain in the community.",
    "We have eleven people in out-of-area residential placements under review.",
])
def test_numbers_that_are_not_counts(text):
    assert counts(text) == (None, None, None)


@pytest.mark.parametrize("text", ["Discharged: lots", "In hospital: -2?", "Not by June: 3.5 / 4", "", "(((", "99999"])
def test_odd_count_text_never_crashes(text):
    c = extract_counts(text)
    assert all(v is None or (isinstance(v, int) and v >= 0) for v in c.values())


@pytest.mark.parametrize("text, codes", [
    ("Restricted (s37/41); MoJ yet to agree leave; RC says not clinically ready.", {"2", "3"}),
    ("OR dispute with the neighbouring county over s117 aftercare.", {"5"}),
    ("OR dispute, and CHC eligibility not agreed either.", {"4", "5"}),
    ("Tribunal (s3) adjourned; parents want him nearer home.", {"6", "7"}),
    ("Restricted patient; tribunal listed for September.", {"2"}),  # a restricted patient's tribunal is 2
    ("Court of Protection application about a tenancy; provider still recruiting staff.", {"6", "8"}),
    ("Phased move agreed: 12-week transition plan.", {"9"}),
    ("He is not a restricted patient; his family are delighted with the plan.", set()),
])
def test_reasons_the_text_names_outright(text, codes):
    assert cue_codes(text) == codes


def test_named_reasons_are_added_to_the_models_codes_never_removed():
    assert add_reasons("1", "no provider yet; MoJ not agreed leave") == "1;2"
    assert add_reasons("NR", "family oppose the move") == "7"
    assert add_reasons("3", "nothing to add here") == "3"
    assert add_reasons("NR", "nothing to add here") == "NR"


def test_a_month_after_june_overrules_out_by_june():
    assert late_by_date("3", "2014-09", "Supported living identified. Est Sept 14.")
    assert not late_by_date("3", "2014-05", "Moving 20 May.")
    assert late_by_date("1", "2015-01", "Case 3 | Y | N | OR dispute | Jan 15"), "no word says they left"
    assert not late_by_date("1", "2014-09", "Discharged Sept 13 to supported living.")
    assert not late_by_date("0", "2014-09", "Est Sept 14.")
