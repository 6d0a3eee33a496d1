"""Examples of the count phrasings area leads write that the bundled corpus lacks (bench/update-counts-dev): the
cohort and its partition, ratios, totals rows, counts split by commissioner, revised figures, ranges, and numbers
that count beds, meetings, wards or years, not people. A count that disagrees with the people listed is kept as
stated and routed to review."""

from __future__ import annotations

import pytest

from coder.people.classify import count_disagreements
from coder.people.counts import extract_counts


def counts(text: str) -> tuple:
    c = extract_counts(text)
    return c["discharged_count"], c["in_hospital_count"], c["not_by_june_count"]


@pytest.mark.parametrize("text, expected", [
    # the cohort is not a count; its partition is
    ("Of the 9 people in our cohort, 6 have moved on and 3 are still in hospital.", (6, 3, None)),
    ("One left in March and another is due in May.", (1, None, None)),
    ("Discharged 2/5, still in 3/5.", (2, 3, None)),
    ("Remaining: 1. Discharged to date: 4.", (4, 1, None)),
    ("Discharged: 2. The remaining one is a restricted patient and will not be discharged by June.", (2, 1, 1)),
    ("Three remain at Oakwood, none of whom will leave hospital by June.", (None, 3, 3)),
    ("Thirteen have been discharged since the stocktake.", (13, None, None)),
    ("Discharged: none yet. Not by June: all three.", (0, None, 3)),
])
def test_counts_in_the_words_area_leads_use(text, expected):
    assert counts(text) == expected


@pytest.mark.parametrize("text, expected", [
    # a table's totals row is the area's count; a count split by commissioner is stated as its sum
    ("Commissioner\tDischarged\tStill in hospital\nCCG\t1\t2\nNHSE\t2\t1\nTotal\t3\t3", (3, 3, None)),
    ("In hospital: CCG 1 + NHSE 2", (None, 3, None)),
    # a revised figure replaces the one it corrects; a range is not a count
    ("Discharged is now 5, not 4.", (5, None, None)),
    ("In hospital: now 2 (was 3).", (None, 2, None)),
    ("We think 1-2 people will not be discharged by June.", (None, None, None)),
    ("The total discharged stays at 6; nobody is expected to miss June.", (6, None, 0)),
])
def test_totals_splits_and_revisions(text, expected):
    assert counts(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Ward 6 closed in April. Still in hospital: 3, all on ward 2.", (None, 3, None)),
    ("Both of them (aged 19 and 27) are still in hospital under s3.", (None, 2, None)),
    ("The CCG held 5 panel meetings and funded 8 beds; discharged since the stocktake: 2.", (2, None, None)),
    ("Over 50% have left hospital; 2 people are still in.", (None, 2, None)),
])
def test_wards_ages_meetings_and_percentages_are_not_counts(text, expected):
    assert counts(text) == expected


def test_a_count_that_disagrees_with_the_people_listed_is_kept_and_sent_to_review():
    stated = extract_counts("Discharged: CCG 2 + NHSE 3\nStill in hospital: 1")
    listed = {"discharged_count": 4, "in_hospital_count": 1, "not_by_june_count": 0}
    assert count_disagreements(stated, listed) == ["discharged: text says 5, 4 listed"]
    assert stated["discharged_count"] == 5, "the text's count is kept as stated, not reconciled with the list"
