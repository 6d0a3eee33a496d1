"""The codebook is data: loading, validation with errors that name the key, and code parsing."""

from __future__ import annotations

import pytest
import yaml

from coder.codebook import format_codes, label_stance, load_codebook
from coder.errors import InputError


def test_stocktake_codebook_has_61_questions_in_11_sections(codebook):
    assert len(codebook.questions) == 61
    assert len(codebook.sections) == 11
    assert {q.id for q in codebook.questions if q.multi} == {2, 48}
    assert codebook.by_ref["6.10"].id == codebook.question(codebook.by_ref["6.10"].id).id
    assert codebook.question(1).label("3") == "New arrangement"


def test_codes_are_parsed_and_checked_against_the_question(codebook):
    assert codebook.parse_codes(2, "6;2;5") == ("2", "5", "6")
    assert codebook.parse_codes(5, "1.0") == ("1",)  # Excel's number formatting
    assert codebook.parse_codes(5, "nr") == ("NR",)
    assert format_codes(("6", "2")) == "2;6"
    with pytest.raises(ValueError, match="not a code of question 5"):
        codebook.parse_codes(5, "9")
    with pytest.raises(ValueError, match="takes one code"):
        codebook.parse_codes(5, "1;3")


def test_code_labels_map_to_shared_stances():
    assert label_stance("No") == "no"
    assert label_stance("Yes (via SAF)") == "yes"
    assert label_stance("Not clear") == "unclear"
    assert label_stance("In progress / under review") == "underway"
    assert label_stance("Co-located") == "other"


def test_a_second_questionnaire_is_just_another_file(tmp_path):
    p = tmp_path / "survey.yaml"
    p.write_text(yaml.safe_dump({
        "name": "housing-2015", "sections": [{"id": 1, "title": "Homes"}],
        "questions": [{"id": 1, "ref": "A", "section": 1, "text": "Do you have a housing plan?",
                       "codes": [{"code": 0, "label": "No"}, {"code": 1, "label": "Yes"},
                                 {"code": 2, "label": "Partly", "stance": "underway"}]}]}))
    cb = load_codebook(p)
    assert cb.name == "housing-2015"
    assert [c.stance for c in cb.question(1).codes] == ["no", "yes", "underway"]
    assert len(cb.sha256) == 64


@pytest.mark.parametrize("doc, key", [
    ({"questions": []}, "name"),
    ({"name": "x", "questions": [{"id": 1, "text": "q"}]}, "questions[0].codes"),
    ({"name": "x", "questions": [{"id": 1, "text": "q", "codes": [{"code": 1}]}]}, "questions[0].codes[0]"),
    ({"name": "x", "questions": [{"id": 1, "text": "q", "codes": [{"code": 1, "label": "Yes"}]},
                                 {"id": 1, "text": "r", "codes": [{"code": 1, "label": "Yes"}]}]}, "questions[1].id"),
    ({"name": "x", "questions": [{"id": 1, "text": "q", "codes": [{"code": 1, "label": "Y", "stance": "maybe"}]}]},
     "stance"),
])
def test_bad_codebooks_name_the_file_and_key(tmp_path, doc, key):
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError) as e:
        load_codebook(p)
    assert str(p) in str(e.value) and key in str(e.value)


def test_invalid_yaml_names_the_line(tmp_path):
    p = tmp_path / "broken.yaml"
    p.write_text("name: x\nquestions: [\n  - id: 1\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_codebook(p)
