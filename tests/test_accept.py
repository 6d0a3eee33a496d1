"""The accepted-codes table and the review store, without a server: reviews shaped as `pull` records them."""

from __future__ import annotations

import subprocess

import pandas as pd
import pytest
from cli_runner import CODER
from review_fixtures import make_suggestions

from coder.errors import InputError
from coder.returns import read_returns, read_table
from coder.review.accept import build_accepted
from coder.review.status import agreement, review_status
from coder.review.store import ReviewStore
from coder.suggestions import read_suggestions


@pytest.fixture
def suggestions(tmp_path, codebook, returns_path):
    path = tmp_path / "suggestions.csv"
    make_suggestions(returns_path, codebook, path, localities=2)
    return path


def reviewed(row, codes: str, reviewer: str = "ann@coder.local", annotation: int = 1,
             at: str = "2026-01-05T10:00:00Z") -> dict:
    """A review record shaped as `coder review pull` writes it."""
    return {"record_id": f"p|1|{annotation}|{at}", "annotation": f"p|1|{annotation}", "round": row.round,
            "locality": row.locality, "region": row.region, "qid": int(row.qid), "ref": row.ref,
            "text": row.text, "support": row.support, "source_id": row.source_id, "codes": codes,
            "suggested": row.suggested, "confidence": row.confidence, "model_version": row.model_version,
            "agreed": codes == row.suggested, "reviewer": reviewer, "reviewed_at": at, "comment": ""}


def other_code(codebook, row) -> str:
    return next(c for c in codebook.question(row.qid).code_values if c != row.suggested)


def test_store_records_each_annotation_version_once(tmp_path, suggestions, codebook):
    df = read_suggestions(suggestions, codebook)
    row = next(df[df["route"] == "review"].itertuples())
    store = ReviewStore(tmp_path / "annotations")
    first = reviewed(row, row.suggested)
    assert store.add([first]) == 1
    assert store.add([first]) == 0, "pulling twice records nothing twice"
    edited = reviewed(row, other_code(codebook, row), at="2026-01-06T09:00:00Z")
    assert store.add([edited, first]) == 1
    assert len(store.records()) == 2
    assert [r["codes"] for r in store.latest()] == [edited["codes"]], "the latest edit of an annotation wins"


def test_accepted_table_sources_and_provenance(tmp_path, suggestions, codebook):
    df = read_suggestions(suggestions, codebook)
    review_rows = list(df[df["route"] == "review"].itertuples())
    store = ReviewStore(tmp_path / "annotations")
    changed = other_code(codebook, review_rows[1])
    store.add([reviewed(review_rows[0], review_rows[0].suggested, annotation=1),
               reviewed(review_rows[1], changed, annotation=2)])
    table = build_accepted(df, store)

    assert len(table) == len(df) and not table.duplicated(["round", "locality", "qid"]).any()
    key = table.set_index(["locality", "qid"])
    a = key.loc[(review_rows[0].locality, review_rows[0].qid)]
    b = key.loc[(review_rows[1].locality, review_rows[1].qid)]
    assert (a["source"], a["codes"], a["agreed"]) == ("human", review_rows[0].suggested, "yes")
    assert (b["source"], b["codes"], b["agreed"], b["suggested"]) == ("human", changed, "no",
                                                                      review_rows[1].suggested)
    expected_sources = {"human": 2, "pending": len(review_rows) - 2,
                        "rule": int(((df["route"] == "auto") & (df["model_version"] == "rule")).sum()),
                        "auto": int(((df["route"] == "auto") & (df["model_version"] != "rule")).sum())}
    assert table["source"].value_counts().to_dict() == {k: v for k, v in expected_sources.items() if v}
    pending = table[table["source"] == "pending"]
    assert (pending["codes"] == "").all() and (pending["suggested"] != "").all()


def test_a_human_code_is_never_replaced_by_a_model_code(tmp_path, suggestions, codebook):
    df = read_suggestions(suggestions, codebook)
    row = next(df[df["route"] == "review"].itertuples())
    human = other_code(codebook, row)
    store = ReviewStore(tmp_path / "annotations")
    store.add([reviewed(row, human)])
    # Later the model is sure of itself and auto-codes the same answer differently.
    rerun = df.copy()
    hit = (rerun["locality"] == row.locality) & (rerun["qid"] == row.qid)
    rerun.loc[hit, ["route", "confidence"]] = ["auto", 0.99]
    for suggestions_now in (df, rerun, rerun[~hit]):  # whatever the suggestions say, or if they lose the row
        table = build_accepted(suggestions_now, store).set_index(["locality", "qid"])
        got = table.loc[(row.locality, row.qid)]
        assert (got["codes"], got["source"]) == (human, "human")


def test_accept_command_writes_a_table_read_returns_reads(tmp_path, suggestions, codebook):
    out = tmp_path / "accepted.csv"
    r = subprocess.run([CODER, "accept", "--suggestions", str(suggestions),
                        "--store", str(tmp_path / "annotations"), "--out", str(out)],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    table = read_table(out)
    assert list(table.columns) == ["round", "locality", "region", "qid", "ref", "text", "codes", "support",
                                   "source_id", "source", "suggested", "confidence", "model_version",
                                   "reviewer", "reviewed_at", "agreed", "decided_for"]
    returns = read_returns(out, codebook)
    assert len(returns) == len(table)
    assert (returns["codes"] == "").sum() == (table["source"] == "pending").sum()
    assert not list(tmp_path.glob(".accepted.csv.*")), "no temporary file is left behind"

    r = subprocess.run([CODER, "status", "--store", str(tmp_path / "annotations")],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "2014-05" in r.stdout


def test_a_bad_suggestions_file_names_row_and_column(tmp_path, suggestions, codebook):
    df = read_table(suggestions)
    df.loc[3, "suggested"] = "42"
    bad = tmp_path / "bad.csv"
    df.to_csv(bad, index=False)
    with pytest.raises(InputError) as e:
        read_suggestions(bad, codebook)
    assert e.value.row == 5 and e.value.column == "suggested" and "'42' is not a code" in str(e.value)


def test_status_counts_and_kappa(tmp_path, suggestions, codebook):
    from sklearn.metrics import cohen_kappa_score

    df = read_suggestions(suggestions, codebook)
    rows = list(df[df["route"] == "review"].itertuples())[:4]
    store = ReviewStore(tmp_path / "annotations")
    store.remember_suggestions(suggestions)
    first, second, records = [], [], []
    for i, row in enumerate(rows):
        a = row.suggested
        b = a if i % 2 else other_code(codebook, row)
        records += [reviewed(row, a, "ann@x", 10 + i, "2026-01-05T10:00:00Z"),
                    reviewed(row, b, "bob@x", 20 + i, "2026-01-05T11:00:00Z")]
        first.append(a)
        second.append(b)
    store.add(records)
    status = review_status(tmp_path / "annotations", codebook)
    (rnd,) = status["rounds"]
    n_review = int((df["route"] == "review").sum())
    assert (rnd.auto, rnd.waiting, rnd.reviewed) == (len(df) - n_review, n_review - len(rows), len(rows))
    # The later reviewer's code stands; it differs from the suggestion on half the rows.
    assert rnd.changed == sum(b != r.suggested for b, r in zip(second, rows, strict=True))

    by_q: dict[int, tuple[list, list]] = {}
    for row, a, b in zip(rows, first, second, strict=True):
        by_q.setdefault(int(row.qid), ([], []))
        by_q[int(row.qid)][0].append(a)
        by_q[int(row.qid)][1].append(b)
    for k in agreement(store):
        a, b = by_q[k["qid"]]
        assert k["tasks"] == len(a)
        expected = cohen_kappa_score(a, b) if len(a) >= 2 else float("nan")
        assert k["kappa"] == (None if pd.isna(expected) else pytest.approx(expected))


def test_codes_a_person_gave_in_the_input_are_kept_and_not_queued(tmp_path, suggestions, codebook):
    from coder.review.push import review_queue

    df = read_suggestions(suggestions, codebook)
    df["human_codes"] = ""
    rows = list(df[df["route"] == "review"].itertuples())
    human = other_code(codebook, rows[0])
    df.loc[rows[0].Index, "human_codes"] = human
    auto_row = next(df[(df["route"] == "auto") & (df["text"] != "")].itertuples())
    df.loc[auto_row.Index, "human_codes"] = other_code(codebook, auto_row)
    table = build_accepted(df, ReviewStore(tmp_path / "annotations")).set_index(["locality", "qid"])
    kept = table.loc[(rows[0].locality, rows[0].qid)]
    assert kept["source"] == "human" and kept["codes"] == human and kept["agreed"] == "no"
    assert table.loc[(auto_row.locality, auto_row.qid), "source"] == "human", "a model code never replaces it"
    # the answer a person already coded is not sent to review; the others keep their places
    queue = review_queue(df)
    assert (rows[0].locality, rows[0].qid) not in set(zip(queue["locality"], queue["qid"], strict=True))
    assert len(queue) == len(rows) - 1
