"""A copy of the project's codebook written elsewhere, with its example files named as a test needs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent


def codebook_copy(tmp_path: Path, files: dict[str, str | None], rows: list[dict] | None = None) -> Path:
    """The codebook as `tmp_path / cb.yaml`, each key of `files` (`training_examples`, `calibration_examples`)
    naming that file (None: the key removed; a key not in `files` keeps the project's file); `rows`, if
    given, written as the CSV the last named key points to."""
    data = yaml.safe_load((ROOT / "codebook" / "stocktake-2013.yaml").read_text(encoding="utf-8"))
    for key in ("training_examples", "calibration_examples"):
        data[key] = str(ROOT / "codebook" / data[key])
    named = None
    for key, name in files.items():
        data.pop(key)
        if name is not None:
            data[key] = named = name
    if rows is not None and named is not None:
        pd.DataFrame(rows).to_csv(tmp_path / named, index=False)
    path = tmp_path / "cb.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def first_round_sample(returns_path: Path, codebook, qids: list[int]) -> pd.DataFrame:
    """The bundled returns' round 2013-06 answers to `qids`: a small training set for the examples' tests."""
    from coder.returns import read_returns

    df = read_returns(returns_path, codebook)
    return df[df["qid"].isin(qids) & (df["round"] == "2013-06")]
