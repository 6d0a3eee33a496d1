"""Every command with bad, hostile and valid inputs, run as a user runs it (`coder ...`).

The README promises: bad input gets one line naming the file (and row and column where there are any), exit
code 2, no traceback, and nothing written; no input is ever overwritten. Each case (tests/bad_inputs_cases.py,
tests/bad_inputs_more.py, tests/bad_inputs_unseen.py, tests/bad_inputs_handoffs.py) builds its inputs in its
own folder; the inputs are hashed before and after the run. Valid controls check that the same commands still
work. The shared world (a small trained model, its suggestions and accepted table, a small documents model and
a coded folder) is built once per module; the cases then run a few at a time, each in its own process: one in
fifteen through the installed `coder` script, the others forked from a process that has imported coder once
(tests/cli_forkserver.py), which calls the script's entry point without paying for the imports each time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from bad_inputs_cases import Case, codebook_cases, out_cases, report_cases, returns_cases  # noqa: E402
from bad_inputs_handoffs import handoff_cases  # noqa: E402
from bad_inputs_more import document_cases, model_cases, store_cases, suggestion_cases  # noqa: E402
from bad_inputs_unseen import unseen_cases  # noqa: E402
from cli_runner import NO_SERVER, ForkServer
from cli_runner import coder as run_coder

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "coder" / "data"
CASES: list[Case] = (returns_cases() + codebook_cases() + report_cases() + out_cases() + model_cases()
                     + store_cases() + suggestion_cases() + document_cases() + unseen_cases()
                     + handoff_cases())
WORKERS = 4
SCRIPT_EVERY = 15
# cases the checks after the table look into
EXTRA_NEEDS = ("docs-search-valid-no-escapes", "docs-code-hostile-folder", "models-use-model-dir-before-use")


def coder(*args: str, cwd: Path | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    return run_coder(*args, cwd=cwd, env={"NO_COLOR": "1"}, unset=NO_SERVER, timeout=timeout)


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder` (symlinks by target name), keyed by relative path."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_symlink():
            out[rel] = "link:" + os.readlink(p)
        elif p.is_file():
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
        elif p.is_dir():
            out[rel] = "dir"
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small, real artefacts every case may read (never write): a model, suggestions, accepted codes, documents."""
    w = tmp_path_factory.mktemp("world")
    df = pd.read_csv(DATA / "returns.csv", dtype=str, keep_default_na=False)
    df[df["qid"].isin(["3", "5", "13", "21"])].to_csv(w / "sample.csv", index=False)
    steps = [
        ["train", "--data", str(w / "sample.csv"), "--round", "2013-06", "--model-dir", str(w / "models")],
        ["suggest", "--data", str(w / "sample.csv"), "--model-dir", str(w / "models"), "--out",
         str(w / "suggestions.csv")],
        ["accept", "--suggestions", str(w / "suggestions.csv"), "--store", str(w / "annotations"), "--out",
         str(w / "accepted.csv")],
    ]
    # a small documents model: six labelled documents, a slice of the answer bank
    lab = w / "labelled"
    lab.mkdir()
    labels = pd.read_csv(DATA / "documents" / "labels.csv", dtype=str, keep_default_na=False)
    labels = labels[labels["file"].str.endswith((".txt", ".md"))].head(6)
    for f in labels["file"]:
        shutil.copy(DATA / "documents" / f, lab / f)
    labels.to_csv(lab / "labels.csv", index=False)
    lines = (DATA / "answers.jsonl").read_text(encoding="utf-8").splitlines()
    (w / "answers.jsonl").write_text("\n".join(lines[::12]) + "\n", encoding="utf-8")
    incoming = w / "incoming"
    incoming.mkdir()
    for f in labels["file"].head(2):
        shutil.copy(lab / f, incoming / f)
    (incoming / "escapes.txt").write_text("Pooled budget \x1b]0;pwned\x07\x1b[2J agreed by the partnership. " * 10)
    steps += [
        ["docs", "train", "--labels", str(lab / "labels.csv"), "--answers", str(w / "answers.jsonl"),
         "--model-dir", str(w / "docmodel"), "--no-eval"],
        ["docs", "code", "--input", str(incoming), "--model-dir", str(w / "docmodel"), "--out", str(w / "coded.csv")],
    ]
    for args in steps:
        r = coder(*args)
        assert r.returncode == 0, (args, r.stderr[-3000:])
    return w


@pytest.fixture(scope="module")
def results(world: Path, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> dict:
    """Run the selected cases (a few at a time); keep what each did and its folder's hashes before and after."""
    before_world = snapshot(world)
    wanted = {item.callspec.params["case"].id for item in request.session.items
              if hasattr(item, "callspec") and isinstance(item.callspec.params.get("case"), Case)} | set(EXTRA_NEEDS)
    cases = [c for c in CASES if c.id in wanted]
    # every SCRIPT_EVERY-th case runs through the installed script; the rest are forked from a process that
    # imported coder once (tests/cli_forkserver.py): the same entry point, each in its own process
    by_script = {c.id for c in cases[::SCRIPT_EVERY]}
    fork = ForkServer(env={"NO_COLOR": "1"}, unset=NO_SERVER)

    def run(case: Case) -> tuple:
        t = tmp_path_factory.mktemp(case.id[:40])
        args = case.build(t, world)
        before = snapshot(t)
        r = coder(*args, cwd=t) if case.id in by_script else fork.coder(*args, cwd=t)
        return args, r, before, snapshot(t)

    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            done = dict(zip([c.id for c in cases], pool.map(run, cases), strict=True))
    finally:
        fork.close()
    done["__world__"] = (before_world, snapshot(world))
    return done


def test_there_are_enough_cases_and_each_has_its_own_name():
    assert len(CASES) >= 150
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_command_ends_as_the_readme_promises(case: Case, results: dict):
    args, r, before, after = results[case.id]
    shown = f"coder {' '.join(args)}\nexit {r.returncode}\nstdout: {r.stdout[-1500:]}\nstderr: {r.stderr[-3000:]}"
    assert "Traceback" not in r.stderr + r.stdout, shown
    assert r.returncode == case.rc, shown
    # no input changed, whatever happened
    for rel, digest in before.items():
        assert after.get(rel) == digest, f"input {rel} changed or vanished\n{shown}"
    if case.rc == 2:
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1, shown
        assert case.says in lines[0], shown
        assert "\x1b" not in lines[0]
        assert set(after) == set(before), f"written on failure: {sorted(set(after) - set(before))}\n{shown}"
    else:
        assert case.says in r.stdout + r.stderr, shown
        for rel in case.writes:
            assert rel in after, f"{rel} not written\n{shown}"


def test_the_shared_model_and_data_were_never_touched(results: dict):
    before, after = results["__world__"]
    # a valid `docs code` is meant to point the model at its latest batch (`docs search` reads it)
    pointer = "docmodel/last-index.txt"
    assert {k: v for k, v in after.items() if k != pointer} == {k: v for k, v in before.items() if k != pointer}


def test_a_document_cannot_write_to_the_terminal_or_run_in_a_spreadsheet(results: dict):
    _, r, _, _ = results["docs-search-valid-no-escapes"]
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout and "Pooled budget" in r.stdout
    args, r, _, after = results["docs-code-hostile-folder"]
    t = Path(args[args.index("--out") + 1]).parent
    table = pd.read_csv(t / "c.csv", dtype=str, keep_default_na=False)
    assert "link.txt" not in set(table["file"])  # a link out of the folder is not read
    assert "'=HYPERLINK(\"evil\")" in set(table["file"])  # a name Excel would run is shown as text
    assert "secret" not in (t / "c.index.json").read_text()


def test_models_use_switches_the_folder_it_is_given(results: dict):
    args, r, before, after = results["models-use-model-dir-before-use"]
    models = Path(args[args.index("--model-dir") + 1])
    assert '"current": "v1' in (models / "registry.json").read_text()
    assert not any(rel.startswith("models") for rel in after)  # ./models (the default) was not touched
