"""Code person records and area plans with the answers' classifier, calibration and routing.

A person record is an answer like any other: its evidence is the text, its question is Q5 (status), Q6 (care
package) or Q7 (reasons) of update-2014.yaml, and the area's plan sentences answer Q4. Training uses
`coder.model.pipeline.fit_model` unchanged, with held-out folds grouped by area (people of one area share an
author). Codes the codebook fixes by rule are not guessed: reasons are NR for a person discharged or to be
discharged by June. Counts and dates come from `coder.people.extract`; numbers that disagree with the people
listed are routed to review with the reason, never reconciled.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from coder.codebook import Codebook
from coder.errors import InputError
from coder.model.embed import Embedder
from coder.model.pipeline import CoderModel, predict, train
from coder.model.route import route
from coder.people.counts import COUNT_FIELDS, check_count, extract_counts
from coder.people.extract import check_month, extract_date
from coder.people.rules import add_reasons, late_by_date
from coder.people.split import split_people

STATUS, PACKAGE, REASONS, PLAN = 5, 6, 7, 4
FIELDS = {STATUS: "status", PACKAGE: "care_package", REASONS: "reasons"}
PLAN_WORDS = re.compile(r"\b(?:local area plan|area plan|LAP|plan\b.*(?:HWB|Health and Wellbeing|board)|"
                        r"(?:HWB|Health and Wellbeing Board)\b.*plan)", re.I)
# A community setting named in the evidence. The codebook (Q6) codes a person not out by June NR when their plan
# names no setting; the classifier never learns NR (blank answers are NR by rule), so this rule applies it.
SETTING_WORDS = re.compile(
    r"supported living|\bSL\b|supported (?:accommodation|housing)|tenancy|\bflat\b|bungalow|residential|\bresi"
    r"|res care|nursing|family|home\b|parents|mother|father|sister|shared lives|forensic (?:supported|community|step"
    r"|placement|service)|community forensic|placement|hostel|college|house\b|scheme", re.I)
# The text says in so many words that the person will not leave by June: status 0 (Q5), whatever the model
# scored; where the model said otherwise the record goes to review.
NOT_BY_JUNE = re.compile(r"not by ju|will not be (?:discharged|out|leaving|moving)|won't be (?:discharged|out)"
                         r"|will not leave|not be discharged by|not (?:be )?out by|not discharged by|after june"
                         r"|beyond june|not before (?:june|the milestone)|not \(?by june", re.I)
PEOPLE_COLUMNS = ["round", "locality", "region", "person", "status", "status_confidence", "care_package",
                  "care_package_confidence", "reasons", "reasons_confidence", "est_discharge", "evidence",
                  "route", "review_why", "model_version"]
AREA_COLUMNS = ["round", "locality", "region", *COUNT_FIELDS, "listed_discharged", "listed_in_hospital",
                "listed_not_by_june", "counts_consistent", "plan_status", "plan_confidence", "plan_evidence",
                "route", "review_why", "model_version"]
UPDATE_COLUMNS = ("round", "locality", "region", "text")


def read_updates(path: str | Path) -> pd.DataFrame:
    """An updates file: one row per area with `round`, `locality`, `region`, `text`."""
    from coder.returns import read_table

    df = read_table(path)
    for c in UPDATE_COLUMNS:
        if c not in df.columns:
            raise InputError(f"missing column {c!r} (an updates file has {', '.join(UPDATE_COLUMNS)})",
                             file=str(path), column=c)
    for c in ("round", "locality"):
        blank = df[c].astype(str).str.strip() == ""
        if blank.any():
            raise InputError(f"{c} is empty", file=str(path), row=int(blank.to_numpy().nonzero()[0][0]) + 2, column=c)
    dup = df.duplicated(["round", "locality"])
    if dup.any():
        row = int(dup.to_numpy().nonzero()[0][0]) + 2
        raise InputError(f"a second update for {df['locality'].iloc[row - 2]!r}", file=str(path), row=row,
                         column="locality")
    return df


def plan_text(text: str) -> str:
    """The sentences of an update about the local area plan (the answer to Q4), or ''."""
    from coder.people.split import units_of

    return " ".join(u.text for u in units_of(text) if PLAN_WORDS.search(u.text))


def _norm(label: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(label).lower())


def training_frame(updates: pd.DataFrame, people: pd.DataFrame, areas: pd.DataFrame) -> pd.DataFrame:
    """Answers to learn from: each gold person's codes on the evidence the splitter finds for them, and each
    area's plan status on its plan sentences. `source_id` is the area, so folds hold out whole areas."""
    rows = []
    gold = {(r.locality, _norm(r.person)): r for r in people.itertuples(index=False)}
    plan = areas.set_index("locality")["plan_status"].to_dict()
    for u in updates.itertuples(index=False):
        for rec in split_people(u.locality, u.text):
            g = gold.get((u.locality, _norm(rec.person)))
            if g is None:
                continue
            for qid, col in FIELDS.items():
                rows.append({"round": u.round, "locality": u.locality, "region": u.region, "qid": qid,
                             "text": rec.evidence, "codes": str(getattr(g, col)), "source_id": u.locality})
        pt = plan_text(u.text)
        if pt and u.locality in plan:
            rows.append({"round": u.round, "locality": u.locality, "region": u.region, "qid": PLAN, "text": pt,
                         "codes": str(plan[u.locality]), "source_id": u.locality})
    return pd.DataFrame(rows)


def read_gold(folder: str | Path, split: str | None = "train",
              codebook: Codebook | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gold people and areas (updates-gold/people.csv, areas.csv), optionally one split of the areas; with a
    codebook, every hand code is checked against it (a bad one names its file, row and column)."""
    from coder.returns import read_table

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError("--gold is a file, not a folder (it holds people.csv and areas.csv)", file=str(folder))
    people, areas = read_table(folder / "people.csv"), read_table(folder / "areas.csv")
    if codebook is not None:
        check_people(people, codebook, str(folder / "people.csv"), GOLD_PEOPLE_REQUIRED)
        check_areas(areas, str(folder / "areas.csv"), GOLD_AREAS_REQUIRED)
        for i, v in enumerate(areas["plan_status"]):
            try:
                codebook.parse_codes(PLAN, v)
            except ValueError as e:
                raise InputError(str(e), file=str(folder / "areas.csv"), row=i + 2, column="plan_status") from None
    if split:
        keep = set(areas.loc[areas["split"] == split, "locality"])
        people, areas = people[people["locality"].isin(keep)], areas[areas["locality"].isin(keep)]
    return people.reset_index(drop=True), areas.reset_index(drop=True)


def train_people(updates: pd.DataFrame, people: pd.DataFrame, areas: pd.DataFrame, codebook: Codebook,
                 model_dir: str | Path, embedder: Embedder | None = None, **kw) -> CoderModel:
    """Fit and save a model for the update codebook from hand-coded person records."""
    df = training_frame(updates, people, areas)
    if df.empty:
        raise InputError("no gold person found in the updates: check the gold files' locality and person")
    return train(df, codebook, model_dir, embedder or Embedder(), **kw)


def _scored(df: pd.DataFrame, model: CoderModel, embedder: Embedder | None, stage) -> pd.DataFrame:
    out = predict(df, model, embedder, stage)
    out["route"] = route(out["qid"].to_numpy(), out["confidence"].to_numpy(), model.thresholds())
    return out


def code_people(updates: pd.DataFrame, model: CoderModel, embedder: Embedder | None = None,
                stage=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(people, areas): one row per person record and one per area, with codes, confidences and routes."""
    records, plans = [], []
    for u in updates.itertuples(index=False):
        for rec in split_people(u.locality, u.text):
            records.append({"round": u.round, "locality": u.locality, "region": u.region, "person": rec.person,
                            "evidence": rec.evidence})
        plans.append({"round": u.round, "locality": u.locality, "region": u.region, "qid": PLAN,
                      "text": plan_text(u.text)})
    people = pd.DataFrame(records, columns=["round", "locality", "region", "person", "evidence"])
    answers = pd.concat([people.assign(qid=q, text=people["evidence"]) for q in FIELDS] + [pd.DataFrame(plans)],
                        ignore_index=True)
    scored = _scored(answers, model, embedder, stage)
    for qid, col in FIELDS.items():
        part = scored[scored["qid"] == qid].reset_index(drop=True)
        people[col] = part["suggested"].to_numpy()
        people[f"{col}_confidence"] = part["confidence"].astype(float).round(4).to_numpy()
        people[f"route_{col}"] = part["route"].to_numpy()
    said_not = people["evidence"].str.contains(NOT_BY_JUNE) & (people["status"] != "0")
    people.loc[said_not, "status"] = "0"
    people.loc[said_not, "route_status"] = "review"
    late = [late_by_date(s, extract_date(t, False), t) for s, t in zip(people["status"], people["evidence"],
                                                                       strict=True)]
    people.loc[late, "status"] = "0"
    people.loc[late, "route_status"] = "review"
    not_late = people["status"].isin(["1", "3"])  # the codebook: no reasons for people out by June
    people.loc[not_late, "reasons"] = model.blank_code
    people.loc[not_late, "reasons_confidence"] = people.loc[not_late, "status_confidence"]
    people.loc[not_late, "route_reasons"] = people.loc[not_late, "route_status"]
    still_in = people["status"] == "0"
    named = [add_reasons(c, t, model.blank_code) for c, t in zip(people.loc[still_in, "reasons"],
                                                                  people.loc[still_in, "evidence"], strict=True)]
    added = still_in.copy()
    added[still_in] = [a != c for a, c in zip(named, people.loc[still_in, "reasons"], strict=True)]
    people.loc[still_in, "reasons"] = named
    people.loc[added, "route_reasons"] = "review"
    no_setting = people["status"].isin(["0", "2"]) & ~people["evidence"].str.contains(SETTING_WORDS)
    people.loc[no_setting, "care_package"] = model.blank_code
    people["est_discharge"] = [extract_date(t, s == "1") for t, s in zip(people["evidence"], people["status"],
                                                                        strict=True)]
    why = []
    for r in people.itertuples(index=False):
        w = [c for c in FIELDS.values() if getattr(r, f"route_{c}") == "review"]
        if r.status in ("0", "2") and not r.est_discharge:
            w.append("no estimated discharge date found")
        why.append("; ".join(w))
    people["review_why"] = why
    people["route"] = ["review" if w else "auto" for w in why]
    people["model_version"] = model.version
    areas = _areas(updates, people, scored[scored["qid"] == PLAN].reset_index(drop=True), model)
    return people[PEOPLE_COLUMNS], areas


def count_disagreements(counts: dict[str, int | None], listed: dict[str, int]) -> list[str]:
    """Each stated count that disagrees with the people listed, as a reason for review. The text's count is kept as
    stated, never reconciled with the list: the disagreement is itself worth a person's look (codebook Q1-Q3)."""
    return [f"{f.replace('_count', '').replace('_', ' ')}: text says {counts[f]}, {listed[f]} listed"
            for f in COUNT_FIELDS if counts[f] is not None and counts[f] != listed[f]]


def _areas(updates: pd.DataFrame, people: pd.DataFrame, plans: pd.DataFrame, model: CoderModel) -> pd.DataFrame:
    rows = []
    for i, u in enumerate(updates.itertuples(index=False)):
        counts = extract_counts(u.text)
        mine = people[people["locality"] == u.locality]
        listed = {"discharged_count": int((mine["status"] == "1").sum()),
                  "in_hospital_count": int(mine["status"].isin(["0", "2", "3"]).sum()),
                  "not_by_june_count": int((mine["status"] == "0").sum())}
        why = count_disagreements(counts, listed)
        plan = plans.iloc[i]
        if plan["route"] == "review" and plan["text"]:
            why.append("plan status")
        rows.append({"round": u.round, "locality": u.locality, "region": u.region,
                     **{f: "" if counts[f] is None else counts[f] for f in COUNT_FIELDS},
                     "listed_discharged": listed["discharged_count"],
                     "listed_in_hospital": listed["in_hospital_count"],
                     "listed_not_by_june": listed["not_by_june_count"],
                     "counts_consistent": "no" if any("listed" in w for w in why) else "yes",
                     "plan_status": plan["suggested"], "plan_confidence": round(float(plan["confidence"]), 4),
                     "plan_evidence": plan["text"], "route": "review" if why else "auto",
                     "review_why": "; ".join(why), "model_version": model.version})
    return pd.DataFrame(rows, columns=AREA_COLUMNS)


PEOPLE_REQUIRED = ("round", "locality", "region", "person", *FIELDS.values(), "est_discharge")
AREAS_REQUIRED = ("round", "locality", "region", *COUNT_FIELDS, "listed_discharged", "listed_in_hospital",
                  "listed_not_by_june", "counts_consistent", "plan_status", "review_why")
GOLD_PEOPLE_REQUIRED = ("locality", "person", *FIELDS.values(), "est_discharge")
GOLD_AREAS_REQUIRED = ("locality", "split", *COUNT_FIELDS, "plan_status")


def require_columns(df: pd.DataFrame, columns: tuple[str, ...], file: str) -> None:
    """A table a person may have edited has the columns coder reads from it (named, not a KeyError)."""
    for c in columns:
        if c not in df.columns:
            raise InputError(f"missing column {c!r} (columns found: {', '.join(map(str, df.columns))})", file=file,
                             row=1, column=c)


def check_people(df: pd.DataFrame, codebook: Codebook, file: str = "<people>",
                 required: tuple[str, ...] = PEOPLE_REQUIRED) -> pd.DataFrame:
    """Validate a people table a person edited: codes of the codebook, months YYYY-MM. One-line errors."""
    require_columns(df, required, file)
    for i, r in enumerate(df.itertuples(index=False)):
        for qid, col in FIELDS.items():
            try:
                codebook.parse_codes(qid, getattr(r, col))
            except ValueError as e:
                raise InputError(str(e), file=file, row=i + 2, column=col) from None
        try:
            check_month(r.est_discharge)
        except ValueError as e:
            raise InputError(str(e), file=file, row=i + 2, column="est_discharge") from None
    return df


def check_areas(df: pd.DataFrame, file: str = "<areas>", required: tuple[str, ...] = AREAS_REQUIRED) -> pd.DataFrame:
    """Validate an areas table: counts are whole numbers of people or blank."""
    require_columns(df, required, file)
    for i, r in enumerate(df.itertuples(index=False)):
        for col in COUNT_FIELDS:
            try:
                check_count(getattr(r, col))
            except ValueError as e:
                raise InputError(str(e), file=file, row=i + 2, column=col) from None
    return df
