"""Every `coder ...` example in README.md's ```bash blocks, run as written (the installed `coder` script).

The examples run in one working folder, in README order, one after another (the loop's outputs feed its
next steps). The files they name are put there first, smaller so the module stays quick: `returns.csv`,
`coder/data/returns.csv` and `returns-2013-06.csv` are four questions of the bundled returns, `new-round.xlsx`
is round 2014-05 of them in the wide form, `coder/data/documents/` six of the labelled documents and
`coder/data/answers.jsonl` a slice of the answer bank, `documents/` and `incoming/` two documents each,
`reference/appendix3b.csv` the published table (tests/reference). `doc-model/` is the documents model the
`docs train` example makes, so the documents examples run after it.

Left to other tests, because they need a running Label Studio server (tests/test_review.py and
tests/test_documents_review.py start a real one): `coder review server start` (started there through
`coder.labelstudio.server.start_server`, the function the command runs), `coder review push` (with and without
`--project`), `coder review pull` (with and without `--project`), `coder docs push`, `coder docs pull`.
`bash scripts/install.sh` and `bash scripts/test.sh` install into `.venv`: `.ci/run` runs the latter itself.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path

import pandas as pd
import pytest
from cli_runner import NO_SERVER, coder

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "coder" / "data"
NEEDS_SERVER = ("coder review server", "coder review push", "coder review pull", "coder docs push",
                "coder docs pull")
# Run as written, on the bundled data they name, by their own tests: the update round's commands by
# tests/test_people_cli.py::test_readme_update_round_commands, the offline hand-off (export / import of a
# Label Studio export) by tests/test_review_groups.py against a real server.
RUN_ELSEWHERE = ("coder people", "coder review export", "coder review import")


def readme_commands() -> list[str]:
    """The `coder` lines of README.md's bash blocks, once each, continuation lines joined, comments cut."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    out: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            line = " ".join(re.split(r"\s#", line)[0].split())
            if not line.startswith("coder "):
                continue
            # `[--out drift.csv]`: run without and with the optional part
            forms = [re.sub(r"\s*\[[^]]*\]", "", line), re.sub(r"\[([^]]*)\]", r"\1", line)] if "[" in line else [line]
            out += [f for f in forms if f not in out and not f.startswith(NEEDS_SERVER + RUN_ELSEWHERE)]
    docs = [c for c in out if c.startswith("coder docs")]
    docs.sort(key=lambda c: not c.startswith("coder docs train"))  # the documents model first
    return [c for c in out if not c.startswith("coder docs")] + docs


COMMANDS = readme_commands()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from coder.codebook import load_codebook
    from coder.returns import read_returns, to_wide

    w = tmp_path_factory.mktemp("readme")
    df = pd.read_csv(DATA / "returns.csv", dtype=str, keep_default_na=False)
    small = df[df["qid"].isin(["3", "5", "13", "21"])]
    (w / "coder" / "data" / "documents").mkdir(parents=True)
    for name in ("returns.csv", "coder/data/returns.csv"):
        small.to_csv(w / name, index=False)
    small[small["round"] == "2013-06"].to_csv(w / "returns-2013-06.csv", index=False)
    long = read_returns(w / "returns.csv", load_codebook())
    to_wide(long).to_excel(w / "new-round.xlsx", index=False)  # both rounds, so `report --compare` has one
    labels = pd.read_csv(DATA / "documents" / "labels.csv", dtype=str, keep_default_na=False)
    labels = labels[labels["file"].str.endswith((".txt", ".md"))].head(6)
    for f in labels["file"]:
        shutil.copy(DATA / "documents" / f, w / "coder" / "data" / "documents" / f)
    labels.to_csv(w / "coder" / "data" / "documents" / "labels.csv", index=False)
    lines = (DATA / "answers.jsonl").read_text(encoding="utf-8").splitlines()
    (w / "coder" / "data" / "answers.jsonl").write_text("\n".join(lines[::12]) + "\n", encoding="utf-8")
    for folder in ("documents", "incoming"):
        (w / folder).mkdir()
        for f in labels["file"].tail(2):
            shutil.copy(DATA / "documents" / f, w / folder / f)
    (w / "reference").mkdir()
    shutil.copy(ROOT / "tests" / "reference" / "appendix3b.csv", w / "reference" / "appendix3b.csv")
    os.symlink(w / "models" / "docs", w / "doc-model")
    return w


def test_the_readme_has_examples_for_every_step():
    for step in ("coder train", "coder suggest", "coder accept", "coder status", "coder report", "coder retrain",
                 "coder models", "coder audit", "coder drift", "coder review order", "coder docs train",
                 "coder docs code", "coder docs search", "coder docs accept"):
        assert any(c.startswith(step) for c in COMMANDS), step


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_example_runs_as_written(command: str, workdir: Path):
    args = shlex.split(command)[1:]
    r = coder(*args, cwd=workdir, unset=NO_SERVER, timeout=1500)
    assert r.returncode == 0, f"{command}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    assert "Traceback" not in r.stderr
    for flag in ("--out",):
        if flag in args:
            assert (workdir / args[args.index(flag) + 1]).exists(), command
