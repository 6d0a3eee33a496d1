"""The 2014 update round: the codebook's count and date kinds, the person splitter on every style, counts and
dates read by rule, and bad counts or dates as one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from coder.codebook import load_codebook
from coder.errors import InputError
from coder.people.counts import check_count, extract_counts
from coder.people.extract import check_month, extract_date, find_dates
from coder.people.split import split_people

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "coder" / "data"


@pytest.fixture(scope="module")
def corpus() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    read = lambda p: pd.read_csv(p, dtype=str, keep_default_na=False)  # noqa: E731
    return read(DATA / "updates.csv"), read(DATA / "updates-gold" / "people.csv"), read(
        DATA / "updates-gold" / "areas.csv")


def norm(label: str) -> str:
    return re.sub(r"[^a-z0-9]", "", label.lower())


# -- codebook ------------------------------------------------------------------------------------------------

def test_update_codebook_has_count_date_and_person_questions():
    cb = load_codebook(ROOT / "codebook" / "update-2014.yaml")
    kinds = {q.id: (q.kind, q.level) for q in cb.questions}
    assert kinds[1] == ("count", "area") and kinds[8] == ("date", "person")
    assert kinds[6] == ("code", "person") and cb.question(6).multi
    assert cb.question(7).label("9") == "Planned transition runs beyond June"
    assert cb.question(1).codes == ()
    stocktake = load_codebook()
    assert {q.kind for q in stocktake.questions} == {"code"}, "old codebooks default to code questions"


def _bad(tmp_path: Path, question: dict) -> str:
    doc = {"name": "t", "questions": [question]}
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError) as e:
        load_codebook(p)
    return str(e.value)


def test_bad_field_kinds_name_the_key(tmp_path):
    assert "questions[0].kind: 'number' is not one of code, count, date" in _bad(
        tmp_path, {"id": 1, "text": "How many", "kind": "number"})
    assert "questions[0].level: 'ward'" in _bad(tmp_path, {"id": 1, "text": "x", "kind": "count", "level": "ward"})
    assert "questions[0].codes: a count question has no codes list" in _bad(
        tmp_path, {"id": 1, "text": "x", "kind": "count", "codes": [{"code": 1, "label": "Yes"}]})
    assert "questions[0].multi: a date question takes one value" in _bad(
        tmp_path, {"id": 1, "text": "x", "kind": "date", "multi": True})
    assert "questions[0].codes: missing" in _bad(tmp_path, {"id": 1, "text": "x"})


# -- person splitter -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("style", ["prose", "bullets", "table", "terse", "mixed"])
def test_splitter_finds_every_listed_person_in_each_style(corpus, style):
    updates, people, areas = corpus
    for loc in areas.loc[areas["style"] == style, "locality"]:
        text = updates.set_index("locality").loc[loc, "text"]
        got = [norm(r.person) for r in split_people(loc, text)]
        gold = [norm(p) for p in people.loc[people["locality"] == loc, "person"]]
        assert sorted(got) == sorted(gold), loc


def test_splitter_keeps_each_persons_own_evidence():
    text = ("Person A moved to supported living in March 2014. Person B is restricted under section 37/41 and "
            "awaits Ministry of Justice agreement. He has escorted leave; estimated discharge September 2014.\n\n"
            "Our local area plan was signed off by the HWB.")
    a, b = split_people("Anytown", text)
    assert (a.person, b.person) == ("Person A", "Person B")
    assert a.evidence == "Person A moved to supported living in March 2014."
    assert b.evidence.endswith("estimated discharge September 2014."), "a follow-on sentence stays with its person"


def test_an_update_that_lists_nobody_has_no_person_records():
    assert split_people("Ravendale", "Ravendale had nobody in hospital at the stocktake; that remains the case.") == []


# -- dates and counts ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, discharged, month", [
    ("Est Dec 14 earliest.", False, "2014-12"),
    ("our working estimate is November 2014", False, "2014-11"),
    ("estimate spring 2015", False, "2015-05"),
    ("Estimated discharge: end of Q3 2014/15.", False, "2014-12"),
    ("due out 23/05", False, "2014-05"),
    ("d/c 12/13 -> own flat", True, "2013-12"),
    ("returned to his mother's home in December", True, "2013-12"),
    ("moves before 1 June", False, "2014-05"),
    ("est. 9.14", False, "2014-09"),
    ("planned for August/September", False, "2014-09"),
    ("not before 2016", False, "2016-01"),
    ("restricted (37/41); cannot give a date with any confidence", False, ""),
    ("will not be discharged by June; no date", False, ""),
])
def test_months_are_read_the_codebook_way(text, discharged, month):
    assert extract_date(text, discharged) == month


def test_section_numbers_and_ratios_are_not_dates():
    assert find_dates("s37/41, 2:1 support, 24/7 staffing, 50/50 funding") == []


@pytest.mark.parametrize("text, counts", [
    ("Summary: 2 discharged since the stocktake, 4 still in hospital, 3 of whom will not be discharged by June.",
     (2, 4, 3)),
    ("Disch 3; in 4; not by Jun 2.", (3, 4, 2)),
    ("At the time of the stocktake we had six people in hospital. Since then three have been discharged.",
     (3, None, None)),
    ("Two have since been discharged and three remain in hospital; none of those three will be discharged by "
     "1 June.", (2, 3, 3)),
    ("We have no one from Ferndale currently in an in-patient setting.", (None, 0, None)),
])
def test_counts_the_text_states(text, counts):
    c = extract_counts(text)
    assert (c["discharged_count"], c["in_hospital_count"], c["not_by_june_count"]) == counts


def test_bad_month_or_count_is_a_clear_error_not_a_crash():
    assert check_month("2014-9") == "2014-09" and check_month("") == ""
    with pytest.raises(ValueError, match="'Sept 2014' is not a month"):
        check_month("Sept 2014")
    with pytest.raises(ValueError, match="'2014-13' is not a month"):
        check_month("2014-13")
    assert check_count("3") == 3 and check_count("") is None
    with pytest.raises(ValueError, match="'three' is not a count"):
        check_count("three")
    with pytest.raises(ValueError, match="'-1' is not a count"):
        check_count("-1")
    assert extract_date("est. 31/31 or Q9 2014/15", False) == "", "unreadable dates are left blank"
