"""The review set that bounds every Appendix 3b line: whole written answers, the shakiest line first, until
every line's bound is within the target or the budget is spent."""

from __future__ import annotations

import pandas as pd
import pytest

from coder.report.definitions import load_report_definitions
from coder.rounds.bound import bound_review
from coder.rounds.order import BOUND_RANK, order_for_review


def _suggestions() -> pd.DataFrame:
    rows = []
    for region, n in (("East Midlands", 10), ("London", 30)):
        for i in range(n):
            copied = region == "East Midlands" and i < 6  # a template answer six areas gave
            rows.append({"round": "r", "locality": f"{region}{i}", "region": region, "qid": 5,
                         "text": "Agreed by the Board." if copied else f"our own answer {region} {i}",
                         "suggested": "1", "confidence": 0.9 if copied else 0.999, "route": "auto",
                         "model_version": "v1"})
    rows.append({"round": "r", "locality": "London0", "region": "London", "qid": 6, "text": "x",
                 "suggested": "1", "confidence": 0.1, "route": "review", "model_version": "v1"})
    return pd.DataFrame(rows)


def test_the_copied_answer_is_reviewed_first_and_every_line_ends_within_target(codebook):
    defs = load_report_definitions(codebook=codebook)
    s = _suggestions()
    res = bound_review(s, defs, target=2.0)
    assert res.within
    first = res.groups[s["text"] == "Agreed by the Board."].iloc[0]
    assert res.order[0] == first, "six copies at 0.9 move the East Midlands line most"
    em = res.lines[(res.lines["region"] == "East Midlands")].iloc[0]
    assert em["expected_before"] == pytest.approx(6 * 0.1 * 10 + 4 * 0.001 * 10, abs=1e-3)
    assert em["worst_before"] == 100.0 and em["bound"] <= 2.0
    assert (res.lines["bound"] <= 2.0).all()
    assert not res.lines["qid"].eq(6).any(), "Q6 is on no report line"

    one = bound_review(s, defs, target=2.0, budget=1)
    assert one.order == res.order[:1]

    ordered = order_for_review(s, defs)
    top = ordered[ordered["priority"] > BOUND_RANK]
    assert set(top["route"]) == {"review"} and (top["text"] == "Agreed by the Board.").sum() == 6
    assert ordered["qid"].iloc[-1] == 6
