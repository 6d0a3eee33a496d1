"""Files a user is handed never run code: crafted model files are refused before skops builds anything,
through the same loader for answer and document models; and tables coder writes are safe to open in Excel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from cli_runner import coder as run_coder

from coder.errors import InputError
from coder.model.safe_load import TRUSTED_TYPES, file_sha256, load_trusted
from coder.model.store import codebook_hash, save_model
from coder.returns import read_table
from coder.spreadsheet import write_table

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = "round,locality,region,qid,text\n2014-05,Anyshire,North East,3,We have a register of people.\n"


def coder(*args: str) -> subprocess.CompletedProcess:
    return run_coder(*args, timeout=600)


def crafted_answer_model(tmp_path: Path, codebook, payload: object) -> Path:
    """A model folder exactly as `coder train` lays it out (registry, manifest with the right codebook hash and
    sha256), whose model.skops holds `payload`: what a colleague with bad intent could hand an analyst."""
    d = tmp_path / "models"
    manifest = {"model_version": "v1-0e1c", "codebook": codebook.name, "codebook_hash": codebook_hash(codebook)}
    save_model(d, {"classifier": payload, "calibrator": None, "oof": {}}, manifest)
    return d


def suggest(tmp_path: Path, model_dir: Path) -> subprocess.CompletedProcess:
    data = tmp_path / "sample.csv"
    data.write_text(SAMPLE)
    return coder("suggest", "--data", str(data), "--model-dir", str(model_dir), "--out", str(tmp_path / "s.csv"))


def assert_one_line_refusal(r: subprocess.CompletedProcess, *words: str) -> None:
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    for w in words:
        assert w in r.stderr, r.stderr


@pytest.mark.parametrize("payload,named", [(exec, "builtins.exec"), (eval, "builtins.eval"),
                                           (os.system, "posix.system")])
def test_a_model_file_holding_a_function_is_refused_naming_the_type_and_the_file(tmp_path, codebook, payload,
                                                                                 named):
    r = suggest(tmp_path, crafted_answer_model(tmp_path, codebook, payload))
    assert_one_line_refusal(r, named, "model.skops", "does not load")
    assert not (tmp_path / "s.csv").exists()


def test_scikit_learn_types_coder_does_not_use_are_refused_too(tmp_path, codebook):
    from sklearn.tree import DecisionTreeClassifier  # skops itself leaves its Tree untrusted

    tree = DecisionTreeClassifier().fit(np.eye(3), [0, 1, 1])
    r = suggest(tmp_path, crafted_answer_model(tmp_path, codebook, tree))
    assert_one_line_refusal(r, "sklearn.tree.", "model.skops")


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage", "edited"])
def test_a_damaged_model_file_is_one_line_exit_2(tmp_path, codebook, damage):
    d = crafted_answer_model(tmp_path, codebook, np.arange(3))
    f = next(d.glob("versions/*/model.skops"))
    blob = f.read_bytes()
    mpath = f.parent / "manifest.json"
    manifest = json.loads(mpath.read_text())
    f.write_bytes({"empty": b"", "truncated": blob[: len(blob) // 2], "garbage": os.urandom(300),
                   "edited": blob}[damage])
    if damage != "edited":  # the manifest agrees with the damaged file: the content checks must catch it
        manifest["model_sha256"] = file_sha256(f)
    else:
        manifest["model_sha256"] = "0" * 64
    mpath.write_text(json.dumps(manifest))
    r = suggest(tmp_path, d)
    assert_one_line_refusal(r, "model.skops")


def test_a_document_model_goes_through_the_same_loader(tmp_path, codebook):
    d = tmp_path / "docs-model"
    d.mkdir()
    sio.dump({"params": exec}, d / "documents.skops")
    (d / "manifest.json").write_text(json.dumps({
        "codebook_sha256": codebook.sha256, "codebook_path": str(ROOT / "codebook" / "stocktake-2013.yaml"),
        "model_file": "documents.skops", "model_sha256": file_sha256(d / "documents.skops")}))
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "a.txt").write_text("A register of people placed out of area.")
    r = coder("docs", "code", "--input", str(inp), "--model-dir", str(d), "--out", str(tmp_path / "o.csv"))
    assert_one_line_refusal(r, "builtins.exec", "documents.skops")


def test_only_the_exact_listed_types_are_constructed(tmp_path):
    f = tmp_path / "ok.skops"
    sio.dump({"a": np.arange(3.0), "b": [1, "x", None]}, f)
    out = load_trusted(f, file_sha256(f))
    assert out["b"] == [1, "x", None] and out["a"].tolist() == [0.0, 1.0, 2.0]
    assert not any(t.startswith(("scipy.", "collections.")) or t.endswith(("exec", "eval")) for t in TRUSTED_TYPES)
    with pytest.raises(InputError, match="no model_sha256"):
        load_trusted(f, None)


EVIL = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-3", "@SUM(A1)", "'=already quoted", "plain", "", "\tTAB"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_tables_are_guarded_on_write_and_read_back_unchanged(tmp_path, suffix):
    df = pd.DataFrame({"text": EVIL, "qid": [str(i) for i in range(len(EVIL))]})
    path = tmp_path / f"t{suffix}"
    write_table(df, path)
    raw = pd.read_excel(path, dtype=str) if suffix == ".xlsx" else pd.read_csv(path, dtype=str)
    raw = raw.fillna("")
    assert not any(v.startswith(("=", "+", "-", "@", "\t")) for v in raw["text"])  # nothing runs in Excel
    assert read_table(path)["text"].tolist() == EVIL  # coder's own round trip is lossless


def test_out_xlsx_is_a_real_workbook_with_a_frozen_wrapped_header(tmp_path):
    from openpyxl import load_workbook

    df = pd.DataFrame({"text": ["a long answer " * 10, "=cmd|' /C calc'!A0"], "confidence": [0.91, 0.5]})
    write_table(df, tmp_path / "s.xlsx")
    wb = load_workbook(tmp_path / "s.xlsx")
    ws = wb.active
    assert len(wb.sheetnames) == 1 and ws.freeze_panes == "A2"
    assert ws["A2"].alignment.wrap_text and ws["B2"].value == 0.91
    assert ws["A3"].data_type == "s" and ws["A3"].value.startswith("'")


def test_version_and_enumerated_option_values_listed_in_help():
    from typer.testing import CliRunner

    from coder import __version__
    from coder.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.output.strip() == f"coder {__version__}"
    env = {"COLUMNS": "200", "NO_COLOR": "1"}
    assert "ltt|shrunk" in runner.invoke(app, ["retrain", "--help"], env=env).output
    assert "report-impact|confidence" in runner.invoke(app, ["review", "order", "--help"], env=env).output
    assert "suggested|exclude" in runner.invoke(app, ["report", "--help"], env=env).output
    r = runner.invoke(app, ["review", "order", "--suggestions", "s.csv", "--out", "o.csv", "--order", "bogus"])
    assert r.exit_code == 2 and "'bogus' is not one of" in r.output


def test_a_codebook_name_with_double_dashes_keeps_the_label_studio_configs_well_formed(codebook):
    import dataclasses
    import xml.dom.minidom

    from coder.documents.review import label_config
    from coder.review.tasks import labeling_config

    odd = dataclasses.replace(codebook, name="stocktake -- draft --> 2")
    for config in (labeling_config(odd), label_config(odd)):
        xml.dom.minidom.parseString(config)  # raises on `--` inside a comment
        assert "stocktake - - draft - -&gt; 2" in config


def test_opening_a_model_does_not_import_all_of_scikit_learn():
    # skops' default trust list walks every scikit-learn module (seconds per command); coder never uses
    # that list, so `skops_io` skips the walk, and puts scikit-learn back as it was
    code = ("import sys, sklearn.utils\n"
            "walk = sklearn.utils.all_estimators\n"
            "from coder.model.safe_load import skops_io\n"
            "sio = skops_io()\n"
            "assert sio is sys.modules['skops.io'] and skops_io() is sio\n"
            "assert sklearn.utils.all_estimators is walk\n"
            "print(sorted(m for m in ('sklearn.gaussian_process', 'sklearn.cross_decomposition') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
