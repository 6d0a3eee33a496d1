"""Retrain on accepted codes and promote only a model that is not worse.

`retrain` fits a candidate on every human code so far and compares it with the current model on the same
held-out answers, which the candidate never trained on: a grouped (by `source_id`) share of the newest
round the current model has not seen. The candidate is promoted only if it is not worse, then refitted on
everything; either way the registry records the version and the comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit

from coder.codebook import Codebook
from coder.errors import InputError
from coder.files import write_json_atomic
from coder.model.embed import Embedder
from coder.model.store import read_registry, save_model
from coder.rounds.accepted import retraining_data

StageFn = Callable[[str, int, int], None]


@dataclass
class Comparison:
    """Both models scored on the same held-out answers, which the candidate did not train on."""

    heldout: str                      # what was held out, in words
    n_heldout: int
    candidate: dict
    current: dict | None
    promoted: bool
    reason: str
    fair: bool = True                 # False when the current model may have trained on the held-out answers

    def table(self) -> pd.DataFrame:
        keys = [("accuracy", "accuracy"), ("macro-F1", "macro_f1"), ("auto-coded share", "auto_share"),
                ("precision of auto-coded", "auto_precision"), ("ECE", "ece")]
        rows = [{"measure": label, "current": (self.current or {}).get(k, float("nan")),
                 "candidate": self.candidate.get(k, float("nan"))} for label, k in keys]
        return pd.DataFrame(rows)

    def to_json(self) -> dict:
        keep = ("n", "accuracy", "macro_f1", "auto_share", "auto_precision", "ece", "model_version")
        return {"heldout": self.heldout, "n_heldout": self.n_heldout, "promoted": self.promoted,
                "reason": self.reason, "fair": self.fair,
                "candidate": {k: self.candidate.get(k) for k in keep},
                "current": {k: self.current.get(k) for k in keep} if self.current else None}


@dataclass
class RetrainResult:
    version: str
    promoted: bool
    comparison: Comparison
    model: object = field(repr=False)
    previous: str | None = None


def holdout_split(data: pd.DataFrame, current_rounds: Sequence[str] | None, fraction: float = 0.3,
                  seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, str, bool]:
    """(train part, held-out answers, description, fair): a grouped split of the newest unseen round.

    Held-out answers are a `fraction` of the written answers (`source_id`) of the latest round the current
    model did not train on; every row sharing a held-out written answer leaves the training part, so the
    candidate never sees them. With no unseen round, the split runs over all rounds and is marked unfair
    (the current model may have trained on the held-out answers, which favours it).
    """
    coded = data[(data["codes"] != "") & (data["text"] != "")]
    seen = set(current_rounds or [])
    new_rounds = sorted(set(coded["round"]) - seen)
    fair = current_rounds is None or bool(new_rounds)
    pool = coded[coded["round"] == new_rounds[-1]] if new_rounds and current_rounds is not None else coded
    groups = pool["source_id"].replace("", np.nan).fillna(pool["locality"] + "|" + pool["qid"].astype(str))
    if groups.nunique() < 4:
        raise InputError(f"too few distinct written answers ({groups.nunique()}) to hold some out for a fair "
                         "comparison")
    split = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
    _, test = next(split.split(pool, groups=groups))
    held_groups = set(groups.iloc[test])
    held = pool.iloc[test]
    all_groups = data["source_id"].replace("", np.nan).fillna(data["locality"] + "|" + data["qid"].astype(str))
    train = data[~all_groups.isin(held_groups)]
    where = f"round {new_rounds[-1]}" if new_rounds and current_rounds is not None else "all rounds"
    desc = (f"{len(held):,} coded answers ({len(held_groups):,} written answers, {fraction:.0%} grouped by "
            f"source_id) of {where}")
    return train.reset_index(drop=True), held.reset_index(drop=True), desc, fair


def retrain(acc: pd.DataFrame, codebook: Codebook, model_dir: str | Path, embedder: Embedder | None = None, *,
            include_auto: bool = False, threshold_method: str = "ltt", target_precision: float | None = None,
            delta: float | None = None, fraction: float = 0.3, tolerance: float = 0.0, seed: int = 0,
            cv: int = 5, classifier_params: dict | None = None, stage: StageFn | None = None) -> RetrainResult:
    """Fit a candidate, compare it with the current model on held-out answers, promote it if not worse.

    Not worse = held-out accuracy at least the current model's minus `tolerance`. A promoted candidate is
    refitted on every answer (held-out ones included) and saved as the current version; a rejected one is
    saved as it was compared (`make_current=False`), so the registry keeps every version and its reasons.
    """
    from coder.model import pipeline

    data = retraining_data(acc, include_auto)
    current = None
    reg = read_registry(model_dir)
    if reg.get("current"):
        current = pipeline.open_model(model_dir, codebook)
    target = target_precision or (current.manifest.get("target_precision") if current else None) \
        or pipeline.DEFAULT_TARGET
    embedder = embedder or (pipeline.embedder_for(current) if current else Embedder())
    fit_kw = {"cv": cv, "target_precision": target, "threshold_method": threshold_method, "delta": delta,
              "classifier_params": classifier_params or (
                  manifest_classifier_params(current.manifest) if current else None)}
    train_part, held, desc, fair = holdout_split(data, current.manifest.get("rounds") if current else None,
                                                 fraction, seed)
    candidate = pipeline.fit_model(train_part, codebook, embedder, stage=_prefixed(stage, "candidate"), **fit_kw)
    cand_m = pipeline.evaluate(held, candidate, embedder, target)
    cur_m = pipeline.evaluate(held, current, embedder, target) if current else None
    if cur_m is None:
        promoted, reason = True, "no current model"
    elif cand_m["accuracy"] >= cur_m["accuracy"] - tolerance:
        promoted, reason = True, (f"held-out accuracy {cand_m['accuracy']:.3f} >= current "
                                  f"{cur_m['accuracy']:.3f}" + (f" - {tolerance}" if tolerance else ""))
    else:
        promoted, reason = False, (f"held-out accuracy {cand_m['accuracy']:.3f} < current "
                                   f"{cur_m['accuracy']:.3f}: kept {current.version}")
    if not fair:
        reason += " (no round the current model has not seen: the comparison favours the current model)"
    comparison = Comparison(desc, int(cand_m["n"]), cand_m, cur_m, promoted, reason, fair)
    model = pipeline.fit_model(data, codebook, embedder, stage=_prefixed(stage, "refit"), **fit_kw) \
        if promoted else candidate
    model.manifest["promoted"] = promoted
    model.manifest["fit_on"] = "all human-coded answers" if promoted else "training part (held-out answers left out)"
    model.manifest["include_auto"] = include_auto
    model.manifest["comparison"] = comparison.to_json()
    version = f"{_next_version(model_dir)}-{model.manifest['data_hash'][:6]}"
    model.manifest["model_version"] = version
    save_model(model_dir, model.to_bundle(), model.manifest, make_current=promoted)
    _annotate_registry(model_dir, version, {"promoted": promoted, "threshold_method": threshold_method,
                                            "rounds": model.manifest.get("rounds"),
                                            "comparison": comparison.to_json()})
    return RetrainResult(version, promoted, comparison, model, current.version if current else None)


def manifest_classifier_params(manifest: dict) -> dict | None:
    p = dict(manifest.get("classifier_params") or {})
    p.pop("spec", None)
    return p or None


def _prefixed(stage: StageFn | None, prefix: str) -> StageFn | None:
    if stage is None:
        return None
    return lambda name, done, total: stage(f"{prefix}: {name}", done, total)


def _next_version(model_dir: str | Path) -> str:
    from coder.model.store import next_version

    return next_version(model_dir)


def _annotate_registry(model_dir: str | Path, version: str, extra: dict) -> None:
    reg = read_registry(model_dir)
    for v in reg["versions"]:
        if v["version"] == version:
            v.update(extra)
    write_json_atomic(Path(model_dir) / "registry.json", reg)


def list_models(model_dir: str | Path) -> pd.DataFrame:
    """Every registered version, oldest first: when, on what, how good, promoted, and which is current."""
    reg = read_registry(model_dir)
    rows = []
    for v in reg["versions"]:
        m = v.get("metrics") or {}
        comp = v.get("comparison") or {}
        rows.append({"version": v["version"], "current": "*" if v["version"] == reg.get("current") else "",
                     "created": v.get("created", ""), "rounds": ",".join(v.get("rounds") or []),
                     "n_train": v.get("n_train"), "data_hash": str(v.get("data_hash", ""))[:10],
                     "cv_accuracy": m.get("accuracy"), "auto_share": m.get("auto_share"),
                     "heldout_accuracy": (comp.get("candidate") or {}).get("accuracy"),
                     "promoted": {True: "yes", False: "no"}.get(v.get("promoted"), ""),
                     "thresholds": v.get("threshold_method", "")})
    return pd.DataFrame(rows, columns=["version", "current", "created", "rounds", "n_train", "data_hash",
                                       "cv_accuracy", "auto_share", "heldout_accuracy", "promoted", "thresholds"])
