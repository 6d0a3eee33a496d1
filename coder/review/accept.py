"""Accepted codes: human reviews kept for good, merged with the model's auto-codes.

A human code always beats a model code, whatever order push, pull and accept run in: `accept` starts from
the store, not from an earlier accepted table.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from coder.codebook import Codebook
from coder.review.store import ReviewStore, human_decisions
from coder.spreadsheet import write_table
from coder.suggestions import read_suggestions

ACCEPTED_COLUMNS = ["round", "locality", "region", "qid", "ref", "text", "codes", "support", "source_id",
                    "source", "suggested", "confidence", "model_version", "reviewer", "reviewed_at", "agreed",
                    "decided_for"]


def accepted_source(human: bool, route: str, rule: bool = False) -> str:
    """What an accepted row rests on: a person's decision beats the model's whatever the route; an auto-routed
    suggestion is accepted as it is (`rule` when a rule, not the model, made it); anything else waits."""
    if human:
        return "human"
    if route == "auto":
        return "rule" if rule else "auto"
    return "pending"


def build_accepted(suggestions: pd.DataFrame, store: ReviewStore, codebook: Codebook | None = None
                   ) -> pd.DataFrame:
    """The accepted-codes table: one row per (round, locality, qid); human codes beat auto, rule and pending.

    Human reviews whose answer is not in `suggestions` are kept too, so no human decision drops out.
    """
    humans = human_decisions(store, codebook)
    rows = []
    for s in suggestions.itertuples(index=False):
        key = (str(s.round), str(s.locality), int(s.qid))
        base = {"round": s.round, "locality": s.locality, "region": s.region, "qid": int(s.qid), "ref": s.ref,
                "text": s.text, "support": s.support, "source_id": s.source_id}
        h = humans.pop(key, None)
        given = str(getattr(s, "human_codes", "") or "").strip()
        if given.lower() == "nan":
            given = ""
        source = accepted_source(h is not None or bool(given), s.route, rule=str(s.model_version) == "rule")
        if h is not None:
            rows.append({**base, **_human_row(h)})
            continue
        model = {"suggested": s.suggested, "confidence": s.confidence, "model_version": s.model_version}
        if given:  # coded by a person in the input file: kept as it is
            rows.append({**base, **model, "codes": given, "source": source, "reviewer": "input file",
                         "reviewed_at": "", "agreed": "yes" if given == s.suggested else "no",
                         "decided_for": ""})
        else:
            rows.append({**base, **model, "codes": s.suggested if source != "pending" else "", "source": source,
                         "reviewer": "", "reviewed_at": "", "agreed": "", "decided_for": ""})
    for h in humans.values():
        rows.append({"round": h["round"], "locality": h["locality"], "region": h.get("region", ""),
                     "qid": int(h["qid"]), "ref": h.get("ref", ""), "text": h.get("text", ""),
                     "support": h.get("support", ""), "source_id": h.get("source_id", ""), **_human_row(h)})
    table = pd.DataFrame(rows, columns=ACCEPTED_COLUMNS)
    if not table.empty:
        table = table.sort_values(["round", "locality", "qid"], kind="stable").reset_index(drop=True)
    return table


def _human_row(h: dict) -> dict:
    return {"codes": h["codes"], "source": "human", "suggested": h.get("suggested", ""),
            "confidence": h.get("confidence", ""), "model_version": h.get("model_version", ""),
            "reviewer": h.get("reviewer", ""), "reviewed_at": h.get("reviewed_at", ""),
            "agreed": "yes" if h.get("agreed") else "no",
            # how many areas' identical answers the one decision coded (1: this answer alone)
            "decided_for": int((h.get("group") or {}).get("areas", 1))}


def accept(suggestions_path: str | Path, out: str | Path, codebook: Codebook,
           store: str | Path = "annotations", wide: bool = False) -> pd.DataFrame:
    """Build and atomically write the accepted-codes table (CSV, or a workbook for an .xlsx `out`; `wide`: the
    workbook with one row per area, as the returns came in); remember the suggestions for `coder status`."""

    suggestions = read_suggestions(suggestions_path, codebook)
    st = ReviewStore(store)
    table = build_accepted(suggestions, st, codebook)
    if wide:  # one row per area, as the returns came in
        from coder.review.wide import write_wide

        write_wide(table, out, title="Accepted codes")
    else:
        write_table(table.astype(str).replace({"nan": ""}), out)
    st.remember_suggestions(suggestions_path)
    return table
