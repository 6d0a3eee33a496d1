"""Reading returns in the long and wide forms, CSV and XLSX, and every kind of bad input."""

from __future__ import annotations

import pandas as pd
import pytest

from coder.errors import InputError
from coder.returns import RETURN_COLUMNS, read_returns, to_wide


@pytest.fixture(scope="module")
def long(codebook, returns_path):
    return read_returns(returns_path, codebook)


def test_long_form_reads_every_answer_with_canonical_codes(long):
    assert list(long.columns) == RETURN_COLUMNS
    assert set(long["round"]) == {"2013-06", "2014-05"}
    assert long["qid"].between(1, 61).all()
    assert (long.loc[long["text"] == "", "codes"] == "NR").all()
    assert long["codes"].str.fullmatch(r"NR|\d+(;\d+)*").all()
    assert not long.duplicated(["round", "locality", "qid"]).any()


def test_wide_form_in_csv_and_xlsx_reads_back_the_same(long, codebook, tmp_path):
    one = long[long["locality"].isin(sorted(set(long["locality"]))[:5])]
    wide = to_wide(one)
    assert {"Q1", "Q1_code", "locality", "region", "round"} <= set(wide.columns)
    wide.to_csv(tmp_path / "wide.csv", index=False)
    wide.to_excel(tmp_path / "wide.xlsx", index=False)
    key = ["round", "locality", "qid"]
    expect = one.sort_values(key).reset_index(drop=True)[["round", "locality", "region", "qid", "text", "codes"]]
    for name in ("wide.csv", "wide.xlsx"):
        back = read_returns(tmp_path / name, codebook).sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(back[expect.columns], expect, check_dtype=False)


def test_wide_columns_may_be_named_by_ref_or_number(codebook, tmp_path):
    pd.DataFrame({"locality": ["Aldmoor"], "region": ["London"], "1.1": ["Yes, a joint board."], "1.1_code": ["1"],
                  "6.10": ["Not yet."], "Q5": [""]}).to_csv(tmp_path / "w.csv", index=False)
    df = read_returns(tmp_path / "w.csv", codebook).set_index("qid")
    assert df.loc[1, "codes"] == "1"
    assert df.loc[codebook.by_ref["6.10"].id, "text"] == "Not yet."
    assert df.loc[codebook.by_ref["6.10"].id, "codes"] == ""
    assert df.loc[5, "round"] == "unspecified"


def _write(tmp_path, text: str, name: str = "bad.csv", encoding: str = "utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


HEADER = "round,locality,region,qid,ref,text,codes,support,source_id\n"


@pytest.mark.parametrize("body, where, what", [
    ("round,locality,qid,text\n2013-06,Aldmoor,1,Yes\n", "row 1, column 'region'", "missing column"),
    (HEADER + "2013-06,Aldmoor,London,99,,Yes,1,,\n", "row 2, column 'qid'", "unknown question"),
    (HEADER + "2013-06,Aldmoor,London,5,1.5,Yes,7,,\n", "row 2, column 'codes'", "not a code of question 5"),
    (HEADER + "2013-06,Aldmoor,London,5,,Yes,1,,\n2013-06,Aldmoor,London,5,,No,0,,\n", "row 3, column 'qid'",
     "duplicate answer"),
    (HEADER + "2013-06,Aldmoor,London,5,1.1,Yes,1,,\n", "row 2, column 'ref'", "does not match"),
    ("", "bad.csv", "empty"),
    (HEADER, "bad.csv", "no rows"),
])
def test_bad_input_names_file_row_and_column(codebook, tmp_path, body, where, what):
    p = _write(tmp_path, body)
    with pytest.raises(InputError) as e:
        read_returns(p, codebook)
    msg = str(e.value)
    assert msg.startswith(str(p)) and where in msg and what in msg
    assert "\n" not in msg


def test_a_csv_saved_by_excel_in_cp1252_is_named_with_its_row_and_a_fix(codebook, tmp_path):
    p = _write(tmp_path, HEADER + "2013-06,Aldmoor,London,5,,Yes,1,,\n2013-06,Aldmoor,London,6,,Yes – agreed,1,,\n",
               encoding="cp1252")
    with pytest.raises(InputError) as e:
        read_returns(p, codebook)
    assert "row 3, column 'text'" in str(e.value) and "--encoding cp1252" in str(e.value)
    df = read_returns(p, codebook, encoding="cp1252")
    assert df.loc[1, "text"] == "Yes – agreed"


@pytest.mark.parametrize("sep, name", [(";", "semicolons"), ("\t", "tabs")])
def test_a_csv_saved_with_another_separator_says_so(codebook, tmp_path, sep, name):
    p = _write(tmp_path, HEADER.replace(",", sep) + sep.join(["2013-06", "Aldmoor", "London", "5", "", "Yes"]))
    with pytest.raises(InputError) as e:
        read_returns(p, codebook)
    assert f"separated by {name}: save the file as comma-separated CSV" in str(e.value)


def test_not_an_excel_file(codebook, tmp_path):
    p = _write(tmp_path, "this is not a workbook", name="bad.xlsx")
    with pytest.raises(InputError, match="cannot read as an Excel workbook"):
        read_returns(p, codebook)
