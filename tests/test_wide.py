"""Codes back in the returns' own shape: the wide workbook (`coder accept --wide`, `coder suggest --wide`)
has a row per area, answers and codes side by side, fills by source, and reads back with the same codes."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from openpyxl import load_workbook
from review_fixtures import coder, make_suggestions

from coder.returns import read_returns, read_table
from coder.review.store import ReviewStore
from coder.review.wide import FILLS, suggestions_as_accepted, write_wide


@pytest.fixture()
def suggestions(tmp_path, codebook, returns_path):
    path = tmp_path / "suggestions.csv"
    df = make_suggestions(returns_path, codebook, path, localities=4)
    df.loc[0, "text"] = "=HYPERLINK(\"http://example.invalid\",\"x\")"  # untrusted answer text
    df.to_csv(path, index=False)
    return path


def _codes(df: pd.DataFrame) -> dict:
    return {(str(r), str(loc), int(q)): str(c) for r, loc, q, c in
            zip(df["round"], df["locality"], df["qid"], df["codes"], strict=True)}


def test_accept_wide_round_trips_the_codes(suggestions, codebook, tmp_path):
    store = tmp_path / "annotations"
    sugg = read_table(suggestions)
    first = sugg[sugg["route"] == "review"].iloc[0]
    # One human decision in the store, as `coder review pull` records it.
    ReviewStore(store).add([{"record_id": "r1", "annotation": "a1", "round": first["round"],
                             "locality": first["locality"], "region": first["region"], "qid": int(first["qid"]),
                             "codes": first["suggested"], "suggested": first["suggested"], "agreed": True,
                             "reviewer": "ann@example.org", "reviewed_at": "2026-12-02T10:00:00Z"}])
    long_out, wide_out = tmp_path / "accepted.csv", tmp_path / "accepted.xlsx"
    assert coder("accept", "--suggestions", str(suggestions), "--store", str(store), "--out",
                 str(long_out)).returncode == 0
    r = coder("accept", "--suggestions", str(suggestions), "--store", str(store), "--wide", "--out", str(wide_out))
    assert r.returncode == 0, r.stderr
    accepted = read_table(long_out)
    back = read_returns(wide_out, codebook)
    assert len(back) == len(accepted)
    assert _codes(back) == _codes(accepted), "reading the workbook back gives the same codes"

    wb = load_workbook(wide_out)
    ws = wb["Accepted codes"]
    header = [c.value for c in ws[1]]
    assert header[:5] == ["round", "locality", "region", "Q1", "Q1_code"]
    assert ws.max_row == 1 + accepted["locality"].nunique(), "one row per area"
    assert ws.freeze_panes == "D2"
    col = {h: i + 1 for i, h in enumerate(header)}
    row = next(i for i in range(2, ws.max_row + 1) if ws.cell(i, 2).value == first["locality"])
    human = ws.cell(row, col[f"Q{first['qid']}_code"])
    assert human.value == first["suggested"] and human.fill.start_color.rgb.endswith(FILLS["human"])
    pending = accepted[accepted["source"] == "pending"].iloc[0]
    row = next(i for i in range(2, ws.max_row + 1) if ws.cell(i, 2).value == pending["locality"])
    cell = ws.cell(row, col[f"Q{pending['qid']}_code"])
    assert cell.value is None and cell.fill.start_color.rgb.endswith(FILLS["pending"])
    assert cell.comment.text.startswith(f"model suggests {pending['suggested']}")
    legend = {r[1]: r[3] for r in wb["Legend"].iter_rows(min_row=2, values_only=True) if r[1]}
    counts = accepted["source"].value_counts()
    assert legend == {k: int(counts.get(k, 0)) for k in FILLS}
    texts = [c.value for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert not any(t.startswith("=") for t in texts), "no answer becomes a formula"
    assert any(t.startswith("'=HYPERLINK") for t in texts)


def test_suggestions_wide_keeps_only_settled_codes(suggestions, codebook, tmp_path):
    s = read_table(suggestions)
    out = tmp_path / "suggestions.xlsx"
    counts = write_wide(suggestions_as_accepted(s), out, title="Suggestions")
    back = read_returns(out, codebook)
    want = {k: (c if route == "auto" else "") for k, c, route in
            zip(_codes(s.assign(codes=s["suggested"])).keys(), s["suggested"], s["route"], strict=True)}
    assert _codes(back) == want, "a suggestion waiting for review is not written as a code"
    assert counts["pending"] == int((s["route"] == "review").sum())


def test_wide_needs_an_xlsx(suggestions, tmp_path):
    r = coder("accept", "--suggestions", str(suggestions), "--wide", "--out", str(tmp_path / "a.csv"))
    assert r.returncode == 2
    assert r.stderr.strip() == f"error: {tmp_path / 'a.csv'}: --wide writes a workbook: --out must be an .xlsx file"
    assert json.dumps(list(tmp_path.iterdir()), default=str).count("a.csv") == 0


def test_the_suggestions_workbook_is_itself_the_suggestions_file(suggestions, codebook, tmp_path):
    """`coder suggest --wide --out suggestions.xlsx` is the one file an analyst keeps: push, order and accept
    read its long sheet, and nothing routed to review is lost from it."""
    from coder.suggestions import LONG_SHEET, read_suggestions

    s = read_table(suggestions)
    out = tmp_path / "suggestions.xlsx"
    write_wide(suggestions_as_accepted(s), out, title="Suggestions", suggestions=s)
    assert load_workbook(out).sheetnames == ["Suggestions", "Legend", LONG_SHEET]
    from_csv, from_xlsx = read_suggestions(suggestions, codebook), read_suggestions(out, codebook)
    pd.testing.assert_frame_equal(from_xlsx.reset_index(drop=True), from_csv.reset_index(drop=True))

    accepted = tmp_path / "accepted.csv"
    r = coder("accept", "--suggestions", str(out), "--store", str(tmp_path / "annotations"), "--out", str(accepted))
    assert r.returncode == 0, r.stderr
    table = read_table(accepted)
    assert len(table) == len(s) and (table["source"] == "pending").sum() == (s["route"] == "review").sum()
    r = coder("review", "order", "--suggestions", str(out), "--out", str(tmp_path / "ordered.csv"))
    assert r.returncode == 0, r.stderr
