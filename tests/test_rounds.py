"""Each new round: the Learn-then-Test guarantee, retrain and promotion, rollback, audit, drift, review order.

Models are trained on six questions of the bundled returns so each fit takes seconds.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from coder.cli import app
from coder.model import pipeline
from coder.model.embed import Embedder
from coder.model.guarantee import ltt_threshold, ltt_thresholds, min_testable, pvalue
from coder.model.route import NEVER, pooled_threshold
from coder.model.store import read_registry, set_current
from coder.report.definitions import load_report_definitions
from coder.returns import read_returns
from coder.rounds.accepted import read_accepted, retraining_data
from coder.rounds.audit import AUDIT_COLUMNS, audit, find_issues
from coder.rounds.drift import drift, novelty_by_round
from coder.rounds.order import order_for_review, report_impact
from coder.rounds.retrain import holdout_split, list_models, retrain
from coder.spreadsheet import write_csv_atomic
from coder.suggestions import read_suggestions

QUESTIONS = [5, 13, 17, 22, 31, 47]  # all on Appendix 3b lines; single-code


# --------------------------------------------------------------------------------------------- guarantee

def true_precision(lam: float) -> float:
    """Precision of answers with confidence >= lam when conf ~ U(0,1) and P(correct | c) = 0.75 + 0.25 c."""
    return 0.75 + 0.125 * (1 + lam)


@pytest.mark.parametrize("method", ["binomial", "hoeffding-bentkus"])
def test_ltt_precision_fails_at_most_delta_of_the_time(method):
    # Many calibration sets from a world where the truth is known: the chosen threshold's real precision
    # falls below the target in at most delta of them; the plain empirical rule fails far more often.
    rng = np.random.default_rng(7)
    target, delta, runs = 0.95, 0.1, 300
    ltt_fail = naive_fail = opened = 0
    for _ in range(runs):
        conf = rng.random(500)
        correct = rng.random(500) < 0.75 + 0.25 * conf
        th, info = ltt_threshold(conf, correct, target, delta, method)
        if th <= 1.0:
            opened += 1
            ltt_fail += true_precision(th) < target
            assert info["precision"] >= target - 0.05
        naive = pooled_threshold(conf, correct, target)
        naive_fail += naive <= 1.0 and true_precision(naive) < target
    assert ltt_fail / runs <= delta
    assert naive_fail / runs > 2 * delta, "the simulation must be hard enough to tell the two apart"
    # Fixed-sequence testing stops at its first failure: when the strictest testable threshold (45 answers at
    # 0.95 / 0.1) holds one mistake, nothing is auto-coded. That is the price of the guarantee.
    assert opened / runs > 0.4, "the guarantee should still auto-code something in many runs"


def test_binomial_pvalue_and_fewest_answers_needed():
    # H0 precision < 0.95: a perfect record of n answers has p = 0.95 ** n
    assert pvalue(30, 30, 0.95) == pytest.approx(0.95 ** 30)
    n = min_testable(0.95, 0.1)
    assert 0.95 ** n <= 0.1 < 0.95 ** (n - 1)
    assert pvalue(n - 1, n, 0.95) > 0.1, "one mistake in the smallest testable set is not enough"
    assert pvalue(0, 0, 0.95) == 1.0
    assert pvalue(95, 100, 0.95, "hoeffding-bentkus") > pvalue(95, 100, 0.95) * 0.99  # HB is the looser test


def test_per_question_threshold_where_data_allow_pooled_otherwise():
    rng = np.random.default_rng(1)
    big = 400
    qids = np.r_[np.full(big, 1), np.full(170, 2), np.full(170, 3)]  # 2 and 3 too few (< 4 x 45) for their own
    conf = rng.random(len(qids))
    correct = rng.random(len(qids)) < np.minimum(1.0, 0.6 + 0.5 * conf)  # answers above 0.8 always right
    g = ltt_thresholds(qids, conf, correct, 0.95, 0.1)
    assert g.per_question == [1]
    assert set(g.thresholds) == {"pooled", "1"}
    assert 0.5 < g.thresholds["pooled"] < NEVER and 0.5 < g.thresholds["1"] < NEVER
    assert g.details["1"]["delta"] == g.details["pooled"]["delta"] == 0.05  # two groups share delta
    manifest = g.to_manifest()
    assert json.loads(json.dumps(manifest))["method"] == "Learn-then-Test"


# --------------------------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def small(codebook, returns_path):
    df = read_returns(returns_path, codebook)
    localities = sorted(set(df["locality"]))[:90]  # fewer texts to embed in the tests' cold cache
    return df[df["qid"].isin(QUESTIONS) & df["locality"].isin(localities)].reset_index(drop=True)


@pytest.fixture(scope="session")
def embedder():
    return Embedder()


@pytest.fixture(scope="session")
def loop(tmp_path_factory, small, codebook, embedder):
    """v1 trained on 2013-06; retrain on 2013-06 (returns file) + 2014-05 reviewed (accepted table)."""
    work = tmp_path_factory.mktemp("loop")
    models = work / "models"
    old, new = small[small["round"] == "2013-06"], small[small["round"] == "2014-05"].reset_index(drop=True)
    # v1 routes with the aimed-at thresholds at 0.9: six questions hold too few answers for 0.95 to open
    v1 = pipeline.train(old, codebook, models, embedder, threshold_method="shrunk", target_precision=0.9)
    s = pipeline.suggest(new.assign(codes=""), v1, embedder).reset_index(drop=True)
    review = (s["route"] == "review").to_numpy()
    acc = new.assign(source=np.where(review, "human", np.where(s["model_version"] == "rule", "rule", "auto")),
                     codes=np.where(review, new["codes"], s["suggested"]), suggested=s["suggested"],
                     confidence=s["confidence"], model_version=s["model_version"],
                     reviewer=np.where(review, "ann", ""), reviewed_at="",
                     agreed=np.where(review, np.where(new["codes"] == s["suggested"], "yes", "no"), ""))
    write_csv_atomic(acc, work / "accepted.csv")
    write_csv_atomic(old, work / "returns-2013-06.csv")
    return {"work": work, "models": models, "v1": v1, "suggestions": s, "new": new}


# --------------------------------------------------------------------------------------------- retrain

def test_retraining_data_is_human_codes_only_unless_asked(loop, codebook):
    acc = read_accepted([loop["work"] / "returns-2013-06.csv", loop["work"] / "accepted.csv"], codebook)
    human = retraining_data(acc)
    assert set(human["source"]) <= {"human", ""}
    assert set(human.loc[human["round"] == "2014-05", "source"]) == {"human"}
    with_auto = retraining_data(acc, include_auto=True)
    assert (with_auto["source"] == "auto").sum() == (acc["source"] == "auto").sum() > 0


def test_holdout_never_trains_the_candidate_on_held_out_answers(loop, codebook):
    acc = read_accepted([loop["work"] / "returns-2013-06.csv", loop["work"] / "accepted.csv"], codebook)
    data = acc[acc["codes"] != ""]
    train, held, desc, fair = holdout_split(data, ["2013-06"], 0.3)
    assert fair and "2014-05" in desc
    assert set(held["round"]) == {"2014-05"}
    assert not set(held["source_id"]) & set(train["source_id"])
    assert len(train) + len(data[data["source_id"].isin(held["source_id"])]) == len(data)


def test_retrain_promotes_a_model_that_is_not_worse_and_records_it(loop, codebook, embedder):
    acc = read_accepted([loop["work"] / "returns-2013-06.csv", loop["work"] / "accepted.csv"], codebook)
    res = retrain(acc, codebook, loop["models"], embedder, cv=3)
    c = res.comparison
    assert c.fair and c.current["model_version"] == loop["v1"].version
    assert res.promoted == (c.candidate["accuracy"] >= c.current["accuracy"])
    reg = read_registry(loop["models"])
    assert [v["version"] for v in reg["versions"]] == [loop["v1"].version, res.version]
    assert reg["current"] == (res.version if res.promoted else loop["v1"].version)
    entry = reg["versions"][-1]
    assert entry["data_hash"] and entry["created"] and entry["metrics"]["accuracy"] > 0
    assert entry["comparison"]["n_heldout"] == c.n_heldout > 0
    if res.promoted:  # refitted on everything, the held-out answers included
        assert res.model.manifest["n_train"] > pipeline.training_rows(
            acc[(acc["source"] == "") & (acc["codes"] != "")], "NR").shape[0]
        assert res.model.manifest["rounds"] == ["2013-06", "2014-05"]
    loop["v2"] = res.version


def test_a_rejected_candidate_is_kept_but_not_used(loop, codebook, embedder):
    # A promotion margin no model can meet (must beat the current accuracy by 1.0) forces a rejection.
    acc = read_accepted([loop["work"] / "returns-2013-06.csv", loop["work"] / "accepted.csv"], codebook)
    before = read_registry(loop["models"])["current"]
    res = retrain(acc, codebook, loop["models"], embedder, cv=3, tolerance=-1.0)
    assert not res.promoted
    reg = read_registry(loop["models"])
    assert reg["current"] == before
    assert reg["versions"][-1]["promoted"] is False
    assert reg["versions"][-1]["version"] == res.version
    models = list_models(loop["models"])
    assert models["promoted"].tolist()[-1] == "no"


def test_models_lists_versions_and_use_rolls_back(loop):
    runner = CliRunner()
    models = str(loop["models"])
    listed = runner.invoke(app, ["models", "--model-dir", models])
    assert listed.exit_code == 0, listed.output
    assert loop["v1"].version in listed.output
    short = loop["v1"].version.split("-")[0]
    used = runner.invoke(app, ["models", "use", short, "--model-dir", models])
    assert used.exit_code == 0, used.output
    assert read_registry(loop["models"])["current"] == loop["v1"].version
    bad = runner.invoke(app, ["models", "use", "v99", "--model-dir", models])
    assert bad.exit_code != 0


def test_suggest_prints_the_guarantee(loop, tmp_path, codebook):
    ltt = [v["version"] for v in read_registry(loop["models"])["versions"] if v.get("threshold_method") == "ltt"]
    set_current(loop["models"], ltt[-1])  # a version retrain made, with Learn-then-Test thresholds
    data = tmp_path / "new.csv"
    write_csv_atomic(loop["new"].assign(codes=""), data)
    out = tmp_path / "s.csv"
    result = CliRunner().invoke(app, ["suggest", "--data", str(data), "--model-dir", str(loop["models"]),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    manifest = pipeline.open_model(loop["models"], codebook).manifest
    assert manifest["threshold_method"] == "ltt" and manifest["guarantee"]["delta"] == 0.1
    target = manifest["guarantee"]["target"]  # retrain kept v1's target precision
    assert f"precision >= {target:.2f} with probability >= 0.90 (Learn-then-Test" in result.output


def test_retrain_cli_prints_the_comparison(loop, tmp_path):
    result = CliRunner().invoke(app, ["retrain", "--accepted", str(loop["work"] / "returns-2013-06.csv"),
                                      "--accepted", str(loop["work"] / "accepted.csv"),
                                      "--model-dir", str(loop["models"]), "--holdout", "0.3"])
    assert result.exit_code == 0, result.output
    assert "held out:" in result.output and ("promoted" in result.output)
    assert "example answers from the codebook's training_examples" in result.output  # it learned from them too


# --------------------------------------------------------------------------------------------- drift

def test_drift_counts_reviewers_changes_per_round_and_question(loop, codebook):
    acc = read_accepted([loop["work"] / "accepted.csv"], codebook)
    per_round, per_q = drift(acc, codebook)
    human = acc[acc["source"] == "human"]
    assert per_round["reviewed"].tolist() == [len(human)]
    assert per_round["changed"].tolist() == [int((human["agreed"] == "no").sum())]
    assert per_q["reviewed"].sum() == len(human)
    assert 0 <= per_round["ece"].iloc[0] <= 1
    runner = CliRunner().invoke(app, ["drift", "--accepted", str(loop["work"] / "accepted.csv")])
    assert runner.exit_code == 0 and "2014-05" in runner.output


def test_drift_reports_the_share_of_answers_unlike_anything_in_training(loop, codebook, embedder):
    acc = read_accepted([loop["work"] / "accepted.csv"], codebook)
    page = " ".join(["The council's medium term financial plan reduces the highways and libraries budgets."] * 150)
    acc.loc[acc.index[:3], "text"] = page  # three pasted documents (2,000 words), far longer than any training answer
    share = novelty_by_round(acc, loop["v1"], embedder)
    assert share["round"].tolist() == ["2014-05"]
    assert 1 <= share["unlike_training"].iloc[0] < share["answers"].iloc[0] / 2
    runner = CliRunner().invoke(app, ["drift", "--accepted", str(loop["work"] / "accepted.csv"),
                                      "--model-dir", str(loop["models"])])
    assert runner.exit_code == 0 and "unlike anything in training" in runner.output


# --------------------------------------------------------------------------------------------- review order

def test_report_impact_puts_small_regions_and_report_questions_first(codebook):
    defs = load_report_definitions(codebook=codebook)
    rows = []
    for region, n in (("East Midlands", 10), ("London", 33)):
        for i in range(n):
            rows.append({"round": "r", "locality": f"{region}{i}", "region": region, "qid": 5,
                         "confidence": 0.6, "route": "review"})
    rows.append({"round": "r", "locality": "London0", "region": "London", "qid": 6, "confidence": 0.1,
                 "route": "review"})  # Q6 is on no report line
    s = pd.DataFrame(rows)
    p = report_impact(s, defs)
    small_region = p[s["region"] == "East Midlands"].iloc[0]
    big_region = p[(s["region"] == "London") & (s["qid"] == 5)].iloc[0]
    assert small_region == pytest.approx(big_region * 33 / 10, rel=1e-3)  # priorities are rounded to 4 places
    assert p[s["qid"] == 6].iloc[0] == 0
    ordered = order_for_review(s, defs)
    assert ordered["region"].iloc[0] == "East Midlands" and ordered["qid"].iloc[-1] == 6


def test_review_order_cli_writes_a_priority_column(loop, tmp_path):
    path, out = tmp_path / "s.csv", tmp_path / "o.csv"
    write_csv_atomic(loop["suggestions"], path)
    result = CliRunner().invoke(app, ["review", "order", "--suggestions", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    o = pd.read_csv(out)
    assert o["priority"].is_monotonic_decreasing and len(o) == len(loop["suggestions"])


# --------------------------------------------------------------------------------------------- audit

def test_confident_learning_flags_the_code_that_disagrees():
    qids = np.ones(6, int)
    given = np.array(["1", "1", "1", "2", "2", "1"], dtype=object)
    probs = [{"1": 0.9, "2": 0.1}] * 3 + [{"1": 0.2, "2": 0.8}] * 2 + [{"1": 0.15, "2": 0.85}]
    flags = find_issues(qids, given, probs, {1: False})
    assert flags["index"].tolist() == [5]
    assert flags["suggested"].tolist() == ["2"]


def test_audit_finds_injected_errors_and_writes_a_review_file(small, codebook, embedder, tmp_path):
    old = small[small["round"] == "2013-06"].reset_index(drop=True)
    pairs = old[(old["text"] != "") & (old["codes"] != "NR")][["qid", "source_id"]].drop_duplicates()
    flip = pairs.sample(frac=0.05, random_state=3)
    noisy = old.copy()
    rng = np.random.default_rng(3)
    key = pd.MultiIndex.from_frame(noisy[["qid", "source_id"]])
    for i in np.flatnonzero(key.isin(pd.MultiIndex.from_frame(flip))):
        others = [c for c in codebook.question(int(noisy.at[i, "qid"])).code_values
                  if c not in (noisy.at[i, "codes"], "NR")]
        noisy.at[i, "codes"] = others[rng.integers(len(others))]
    flags = audit(noisy, codebook, embedder, cv=3)
    assert list(flags.columns) == AUDIT_COLUMNS
    assert (flags["route"] == "review").all() and (flags["suggested"] != flags["given"]).all()
    flagged = set(zip(flags["qid"], flags["source_id"], strict=True))
    injected = set(zip(flip["qid"], flip["source_id"], strict=True))
    recall = len(flagged & injected) / len(injected)
    chance = len(flagged) / len(pairs)
    assert recall > 2 * chance, (recall, chance)
    path = tmp_path / "audit.csv"
    write_csv_atomic(flags, path)
    assert len(read_suggestions(path, codebook)) == len(flags)  # `coder review push` can send it
