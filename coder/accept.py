"""Accepted codes: human reviews kept for good, merged with the model's auto-codes, and the review's progress.

The store (default ``annotations/``) is the source of truth for human decisions:

* ``reviews.jsonl``: one JSON line per version of a completed annotation pulled from Label Studio, keyed by
  ``record_id`` (project, annotation id and its last edit time), so pulling twice records nothing twice and
  an annotation edited after a pull is recorded again, its latest version winning. Lines are never dropped.
* ``state.json``: the suggestions file last pushed or accepted, so ``coder status`` can count what is
  auto-coded and what waits for review without being told again.

Every file is rewritten atomically. A human code always beats a model code, whatever order push, pull and
accept run in: `accept` starts from the store, not from an earlier accepted table.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from coder.codebook import Codebook
from coder.errors import InputError
from coder.files import write_json_atomic, write_text_atomic

ACCEPTED_COLUMNS = ["round", "locality", "region", "qid", "ref", "text", "codes", "support", "source_id",
                    "source", "suggested", "confidence", "model_version", "reviewer", "reviewed_at", "agreed"]
REVIEWS_FILE = "reviews.jsonl"
STATE_FILE = "state.json"


class ReviewStore:
    """The append-only record of human reviews, deduplicated by `record_id`."""

    def __init__(self, path: str | Path = "annotations") -> None:
        self.dir = Path(path)
        self.reviews_path = self.dir / REVIEWS_FILE
        self.state_path = self.dir / STATE_FILE

    def records(self) -> list[dict]:
        """Every recorded version, in the order recorded."""
        if not self.reviews_path.exists():
            return []
        out = []
        with open(self.reviews_path, encoding="utf-8") as f:
            for n, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    raise InputError("line is not valid JSON (was the file edited by hand?)",
                                     file=str(self.reviews_path), row=n) from None
        return out

    def add(self, records: list[dict]) -> int:
        """Add the records not already stored; returns how many were new."""
        existing = self.records()
        seen = {r["record_id"] for r in existing}
        new = []
        for r in records:
            if r["record_id"] not in seen:
                seen.add(r["record_id"])
                new.append(r)
        if new:
            lines = [json.dumps(r, ensure_ascii=False, sort_keys=True) for r in existing + new]
            write_text_atomic(self.reviews_path, "\n".join(lines) + "\n")
        return len(new)

    def latest(self) -> list[dict]:
        """The latest version of each annotation (an annotation edited in Label Studio supersedes itself)."""
        by_annotation: dict[str, dict] = {}
        for r in self.records():
            key = r.get("annotation") or r["record_id"]
            seen = by_annotation.get(key)
            if seen is None or str(r.get("reviewed_at", "")) >= str(seen.get("reviewed_at", "")):
                by_annotation[key] = r
        return list(by_annotation.values())

    def state(self) -> dict:
        try:
            return json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, json.JSONDecodeError):
            return {}

    def remember_suggestions(self, path: str | Path) -> None:
        state = self.state()
        state["suggestions"] = str(Path(path).resolve())
        write_json_atomic(self.state_path, state)


def human_decisions(store: ReviewStore) -> dict[tuple[str, str, int], dict]:
    """One decision per (round, locality, qid): the most recently made review wins when several exist."""
    out: dict[tuple[str, str, int], dict] = {}
    for r in sorted(store.latest(), key=lambda r: str(r.get("reviewed_at", ""))):
        out[(str(r["round"]), str(r["locality"]), int(r["qid"]))] = r
    return out


def build_accepted(suggestions: pd.DataFrame, store: ReviewStore) -> pd.DataFrame:
    """The accepted-codes table: one row per (round, locality, qid); human codes beat auto, rule and pending.

    Human reviews whose answer is not in `suggestions` are kept too, so no human decision drops out.
    """
    humans = human_decisions(store)
    rows = []
    for s in suggestions.itertuples(index=False):
        key = (str(s.round), str(s.locality), int(s.qid))
        base = {"round": s.round, "locality": s.locality, "region": s.region, "qid": int(s.qid), "ref": s.ref,
                "text": s.text, "support": s.support, "source_id": s.source_id}
        h = humans.pop(key, None)
        given = str(getattr(s, "human_codes", "") or "").strip()
        if given.lower() == "nan":
            given = ""
        if h is not None:
            rows.append({**base, **_human_row(h)})
        elif given:  # coded by a person in the input file: kept as it is
            rows.append({**base, "codes": given, "source": "human", "suggested": s.suggested,
                         "confidence": s.confidence, "model_version": s.model_version, "reviewer": "input file",
                         "reviewed_at": "", "agreed": "yes" if given == s.suggested else "no"})
        elif s.route == "auto":
            source = "rule" if str(s.model_version) == "rule" else "auto"
            rows.append({**base, "codes": s.suggested, "source": source, "suggested": s.suggested,
                         "confidence": s.confidence, "model_version": s.model_version, "reviewer": "",
                         "reviewed_at": "", "agreed": ""})
        else:
            rows.append({**base, "codes": "", "source": "pending", "suggested": s.suggested,
                         "confidence": s.confidence, "model_version": s.model_version, "reviewer": "",
                         "reviewed_at": "", "agreed": ""})
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
            "agreed": "yes" if h.get("agreed") else "no"}


def accept(suggestions_path: str | Path, out: str | Path, codebook: Codebook,
           store: str | Path = "annotations") -> pd.DataFrame:
    """Build and atomically write the accepted-codes table; remember the suggestions for `coder status`."""
    from coder.returns import write_csv_atomic
    from coder.review import read_suggestions

    suggestions = read_suggestions(suggestions_path, codebook)
    st = ReviewStore(store)
    table = build_accepted(suggestions, st)
    write_csv_atomic(table.astype(str).replace({"nan": ""}), out)
    st.remember_suggestions(suggestions_path)
    return table


# --------------------------------------------------------------------------------------------- status

@dataclass
class RoundStatus:
    round: str
    auto: int | None
    waiting: int | None
    reviewed: int
    changed: int


def review_status(store: str | Path, codebook: Codebook) -> dict:
    """Per round: auto-coded, waiting, reviewed, changed; most-corrected questions; kappa where two coded."""
    from coder.review import read_suggestions

    st = ReviewStore(store)
    suggestions_path = st.state().get("suggestions")
    note = ""
    table: pd.DataFrame | None = None
    if suggestions_path and Path(suggestions_path).exists():
        table = build_accepted(read_suggestions(suggestions_path, codebook), st)
    elif suggestions_path:
        note = (f"the suggestions file {suggestions_path} recorded by push/accept is gone; "
                "counts show reviews only")
    else:
        note = ("no suggestions file recorded yet (run `coder review push` or `coder accept`): "
                "counts show reviews only")
    humans = list(human_decisions(st).values())
    rounds: dict[str, RoundStatus] = {}
    if table is not None:
        for rnd, g in table.groupby("round", sort=True):
            h = g[g["source"] == "human"]
            rounds[str(rnd)] = RoundStatus(str(rnd), int(g["source"].isin(["auto", "rule"]).sum()),
                                           int((g["source"] == "pending").sum()), len(h),
                                           int((h["agreed"] == "no").sum()))
    else:
        for r in humans:
            rs = rounds.setdefault(str(r["round"]), RoundStatus(str(r["round"]), None, None, 0, 0))
            rs.reviewed += 1
            rs.changed += 0 if r.get("agreed") else 1
    per_q: dict[int, list[int]] = {}
    for r in humans:
        n = per_q.setdefault(int(r["qid"]), [0, 0])
        n[0] += 1
        n[1] += 0 if r.get("agreed") else 1
    corrected = sorted(((q, n, c) for q, (n, c) in per_q.items() if c),
                       key=lambda x: (-x[2], -x[2] / x[1], x[0]))
    return {"rounds": [rounds[k] for k in sorted(rounds)], "most_corrected": corrected[:5],
            "kappa": agreement(st), "note": note,
            "question_ref": {q.id: q.ref for q in codebook.questions}}


def agreement(store: ReviewStore) -> list[dict]:
    """Cohen's kappa per question over tasks that two reviewers coded (the first two to code each)."""
    from sklearn.metrics import cohen_kappa_score

    by_key: dict[tuple[str, str, int], list[dict]] = {}
    for r in sorted(store.latest(), key=lambda r: str(r.get("reviewed_at", ""))):
        key = (str(r["round"]), str(r["locality"]), int(r["qid"]))
        pair = by_key.setdefault(key, [])
        if all(p["reviewer"] != r["reviewer"] for p in pair) and len(pair) < 2:
            pair.append(r)
    per_q: dict[int, tuple[list[str], list[str]]] = {}
    for (_, _, qid), pair in by_key.items():
        if len(pair) == 2:
            a, b = per_q.setdefault(qid, ([], []))
            a.append(pair[0]["codes"])
            b.append(pair[1]["codes"])
    out = []
    for qid in sorted(per_q):
        a, b = per_q[qid]
        agree = sum(x == y for x, y in zip(a, b, strict=True)) / len(a)
        kappa = float("nan")
        if len(a) >= 2:
            kappa = float(cohen_kappa_score(a, b))
        out.append({"qid": qid, "tasks": len(a), "agreement": agree,
                    "kappa": None if math.isnan(kappa) else kappa})
    return out
