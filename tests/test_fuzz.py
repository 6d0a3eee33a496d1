"""Fuzzing the readers: whatever a user hands coder (returns CSV/XLSX, suggestions, codebook and report YAML,
Label Studio results and the records pulled from them) either reads or raises the one-line InputError the
command line prints with exit 2 - never another exception, which would be a traceback.

Inputs start from valid files and are mutated (cells, keys, values, types), so they get past the first checks.
"""

from __future__ import annotations

import copy
import functools
import json
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import yaml
from cli_runner import CODER
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from coder.codebook import parse_codebook
from coder.errors import InputError
from coder.labelstudio.sync import annotation_choices
from coder.report.definitions import parse_report_definitions
from coder.returns import read_returns
from coder.review.store import ReviewStore
from coder.suggestions import read_suggestions

ROOT = Path(__file__).resolve().parent.parent
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])
JSONISH = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True)
                       | st.text(max_size=20),
                       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                    max_size=4),
                       max_leaves=12)
CELL = st.one_of(st.text(max_size=30), st.sampled_from(["", "NR", "1", "2;5", "=1+1", "-3", "99", "x;y", "1.0",
                                                       "nan", "None", '"', "\n", "2013-06", "'=a"]),
                 st.integers(-5, 200).map(str))


def reads_or_input_error(fn, *args) -> None:
    try:
        fn(*args)
    except InputError as e:
        assert "\n" not in str(e).strip(), f"not one line: {e!r}"


def paths_of(obj, prefix=()):
    """Every (path) into a nested structure of dicts and lists, the root included."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from paths_of(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from paths_of(v, prefix + (i,))


def mutate(obj, edits):
    obj = copy.deepcopy(obj)
    for pick, value, delete in edits:
        paths = [p for p in paths_of(obj) if p]
        if not paths:
            return value
        path = paths[pick % len(paths)]
        parent = obj
        for k in path[:-1]:
            parent = parent[k]
        if delete:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    return obj


EDITS = st.lists(st.tuples(st.integers(0, 10**6), JSONISH, st.booleans()), min_size=1, max_size=4)
CODEBOOK_DATA = yaml.safe_load((ROOT / "codebook" / "stocktake-2013.yaml").read_text())
DEFINITIONS_DATA = yaml.safe_load((ROOT / "codebook" / "report-2013.yaml").read_text())


@FUZZ
@given(EDITS)
def test_codebook_yaml(edits):
    reads_or_input_error(parse_codebook, mutate(CODEBOOK_DATA, edits), "codebook.yaml")


@FUZZ
@given(EDITS)
def test_report_definitions_yaml(codebook, edits):
    reads_or_input_error(parse_report_definitions, mutate(DEFINITIONS_DATA, edits), "report.yaml", codebook)


@FUZZ
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_codebook_and_definitions_files_of_any_bytes(blob):
    from coder.codebook import load_codebook
    from coder.report.definitions import load_report_definitions

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "x.yaml"
        p.write_bytes(blob)
        reads_or_input_error(load_codebook, p)
        reads_or_input_error(load_report_definitions, p)


@functools.cache
def _bundled(codebook) -> pd.DataFrame:
    return read_returns(ROOT / "coder" / "data" / "returns.csv", codebook).head(8).astype(str)


def _returns_sample(codebook) -> pd.DataFrame:
    return _bundled(codebook).head(6).copy()


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 100), st.integers(0, 100), CELL), min_size=1, max_size=6),
       st.sampled_from(["csv", "xlsx", "wide-csv"]), st.lists(st.integers(0, 20), max_size=2))
def test_returns_files(codebook, cells, kind, drop):
    from coder.returns import to_wide

    base = _returns_sample(codebook)
    df = to_wide(_bundled(codebook)) if kind == "wide-csv" else base
    df = df.astype(str).copy()
    for r, c, v in cells:
        df.iat[r % len(df), c % len(df.columns)] = v
    for c in drop:
        if len(df.columns) > 1:
            df = df.drop(columns=df.columns[c % len(df.columns)])
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / ("r.xlsx" if kind == "xlsx" else "r.csv")
        if kind == "xlsx":  # text a workbook can hold (openpyxl refuses control characters)
            df.map(lambda v: ILLEGAL_CHARACTERS_RE.sub("", v)).to_excel(p, index=False)
        else:
            df.to_csv(p, index=False)
        reads_or_input_error(read_returns, p, codebook)


@FUZZ
@given(st.binary(max_size=400), st.sampled_from(["r.csv", "r.xlsx"]))
def test_returns_files_of_any_bytes(codebook, blob, name):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / name
        p.write_bytes(b"round,locality,region,qid,text\n" + blob if name.endswith("csv") else blob)
        reads_or_input_error(read_returns, p, codebook)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 100), st.integers(0, 100), CELL), min_size=1, max_size=6))
def test_suggestions_files(codebook, cells):
    df = _returns_sample(codebook).assign(suggested="1", confidence="0.9", route="auto", model_version="v1")
    df = df[["round", "locality", "region", "qid", "text", "suggested", "confidence", "route", "model_version"]]
    for r, c, v in cells:
        df.iat[r % len(df), c % len(df.columns)] = v
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "s.csv"
        df.to_csv(p, index=False)
        reads_or_input_error(read_suggestions, p, codebook)


ANNOTATION = {"id": 7, "completed_by": 1, "updated_at": "2026-01-05T10:00:00Z", "was_cancelled": False,
              "result": [{"type": "choices", "from_name": "codes", "to_name": "text", "value": {"choices": ["1"]}},
                         {"type": "textarea", "from_name": "comment", "value": {"text": ["ok"]}}]}


@FUZZ
@given(EDITS)
def test_label_studio_results(edits):
    a = mutate(ANNOTATION, edits)
    if isinstance(a, dict):
        reads_or_input_error(annotation_choices, a)


@FUZZ
@given(st.lists(st.one_of(JSONISH.map(json.dumps), st.text(max_size=40)), max_size=5))
def test_recorded_reviews(lines):
    with tempfile.TemporaryDirectory() as d:
        store = ReviewStore(d)
        store.reviews_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        reads_or_input_error(store.records)
        reads_or_input_error(lambda: store.decisions(lambda r: r.get("qid") if isinstance(r, dict) else None))


def test_a_fuzzed_file_through_the_command_line_is_one_line_exit_2(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("round,locality,region,qid,text\n2014-05,A,B,=1+1,\"unterminated\n")
    r = subprocess.run([CODER, "suggest", "--data", str(p), "--model-dir",
                        str(tmp_path / "m"), "--out", str(tmp_path / "o.csv")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
